"""The medical-assistance fund (SPEC-ASSISTANCE.md); `rules` holds its pure computation."""
