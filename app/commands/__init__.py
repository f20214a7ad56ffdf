"""The command groups of the `fundledger` command line; app/cli.py assembles them."""
