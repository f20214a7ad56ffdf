"""Every command-line error is one line with a hint on stderr, exit 1 (2 for a usage error),
no traceback unless --debug; a command never creates a database file by accident."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.databases import fresh_database


def _cli(folder: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDLEDGER_")}
    if url is not None:
        env["FUNDLEDGER_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_read_command_without_a_database_creates_none(tmp_path: Path) -> None:
    for args in (["jobs", "list"], ["calendar", "show", "2026"], ["ledger", "verify"]):
        line = _one_line(_cli(tmp_path, *args), 1)
        assert line.startswith("fundledger: no database at ./fundledger.db")
        assert "FUNDLEDGER_DATABASE_URL" in line and "fundledger db upgrade" in line
    assert list(tmp_path.iterdir()) == []


def test_a_database_not_migrated_says_what_to_run(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    url = "sqlite:///empty.db"
    line = _one_line(_cli(tmp_path, "jobs", "list", url=url), 1)
    assert "database not migrated — run `fundledger db upgrade`" in line
    with_debug = _cli(tmp_path, "--debug", "jobs", "list", url=url)
    assert with_debug.returncode == 1
    assert "Traceback (most recent call last)" in with_debug.stderr
    assert with_debug.stderr.strip().splitlines()[-1] == line
    assert _cli(tmp_path, "db", "upgrade", url=url).returncode == 0
    listed = _cli(tmp_path, "jobs", "list", url=url)
    assert listed.returncode == 0, listed.stderr
    assert "daily_batch" in listed.stdout and "bank_requery" in listed.stdout


def test_usage_errors_exit_2_in_one_line(tmp_path: Path) -> None:
    line = _one_line(_cli(tmp_path, "jobs", "run"), 2)
    assert line.startswith("fundledger jobs run: Missing argument")
    assert "fundledger jobs run --help" in line
    line = _one_line(_cli(tmp_path, "jobs", "run", "nope", "--date", "2026-03-05"), 2)
    assert "no job 'nope'" in line and "daily_batch" in line
    line = _one_line(_cli(tmp_path, "jobs", "run", "daily_batch", "--date", "2026-13-01"), 2)
    assert "'2026-13-01' is not a date YYYY-MM-DD" in line
    assert _one_line(_cli(tmp_path, "nonsense"), 2).startswith("fundledger: No such command")
    line = _one_line(_cli(tmp_path, "bank-sim", "--faults", "error_rate=0.1,explode=1"), 2)
    assert "no bank fault 'explode'" in line and "delay_hours_max" in line
    assert list(tmp_path.iterdir()) == []


def test_refusals_and_unreachable_databases_are_one_line(tmp_path: Path) -> None:
    with fresh_database() as url:
        line = _one_line(
            _cli(
                tmp_path,
                "users",
                "add",
                "h1",
                "--role",
                "hospital",
                "--institution",
                "H404",
                url=url,
            ),
            1,
        )
        assert line == "fundledger: refused: fixmedins_code: no such institution"
    unreachable = "postgresql+psycopg://someone:secret@127.0.0.1:1/nothing"
    line = _one_line(_cli(tmp_path, "ledger", "verify", url=unreachable), 1)
    assert line.startswith("fundledger: database error at postgresql+psycopg://someone:***@")
    assert "secret" not in line
    line = _one_line(_cli(tmp_path, "scenario", "run", "missing.json"), 1)
    assert line == "fundledger: No such file or directory: missing.json"
