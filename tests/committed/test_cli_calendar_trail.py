"""Calendar changes from the command line leave the same audit trail as the API and the
console (issue 15, item 7: `calendar unset` and `calendar confirm` left none)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select

from app.trail.models import AuditEvent
from tests.support.databases import fresh_database


def _cli(folder: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDLEDGER_")}
    env["FUNDLEDGER_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_set_unset_and_confirm_are_in_the_trail(tmp_path: Path) -> None:
    with fresh_database() as url:
        steps = [
            (["calendar", "set", "2026-10-10", "--off", "--note", "调休"], "2026-10-10: day off"),
            (["calendar", "unset", "2026-10-10"], "2026-10-10: override removed"),
            (["calendar", "unset", "2026-10-10"], "2026-10-10: override was not set"),
            (["calendar", "confirm", "2027"], "2027 confirmed"),
        ]
        for args, said in steps:
            result = _cli(tmp_path, url, *args)
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == said
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    select(AuditEvent.action, AuditEvent.entity_key, AuditEvent.actor_role)
                    .where(AuditEvent.entity == "calendar")
                    .order_by(AuditEvent.id)
                ).all()
        finally:
            engine.dispose()
        assert [(action, key) for action, key, _ in rows] == [
            ("calendar.override", "2026-10-10"),
            ("calendar.override_removed", "2026-10-10"),
            ("calendar.confirm", "2027"),
        ]
        assert {role for _, _, role in rows} == {"admin"}
