"""The web console for people (STYLE.md 20): server-rendered pages over the same services as the
API; login by name and password; no script, no font and nothing else from the internet."""
