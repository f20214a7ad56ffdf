"""Run `python -m app ...` as a separate process against a database (committed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI_TIMEOUT_S = 120


def run(folder: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in `folder`, with no FUNDLEDGER_ setting but the database URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDLEDGER_")}
    if url is not None:
        env["FUNDLEDGER_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
