"""`fundledger assistance import-recipients FILE --source --month` (issue 21 item 2): the same
import as the API, idempotent per (source, month), refusals in one line with exit 1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, select

from app.assistance.models import RecipientCategory
from tests.support import cli
from tests.support.databases import fresh_database


def _cli(folder: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return cli.run(folder, *args, url=url)


def _line(psn_no: str, **changes: object) -> dict[str, object]:
    return {
        "psn_no": psn_no,
        "name": "李四",
        "certno": "640102199001015678",
        "region_code": "640100",
        "category": "dibao",
        "valid_from": "2026-03-01",
        **changes,
    }


def test_import_recipients_then_replay_then_conflict(tmp_path: Path) -> None:
    with fresh_database() as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "INSERT INTO region (code, name, division_prefixes) "
                    "VALUES ('640100', '银川市', '[\"6401\"]')"
                )
            listed = tmp_path / "march.json"
            listed.write_text(json.dumps({"items": [_line("P1"), _line("P2")]}), encoding="utf-8")
            args = ["assistance", "import-recipients", str(listed), "--source", "civil_affairs"]
            first = _cli(tmp_path, url, *args, "--month", "2026-03")
            assert first.returncode == 0, first.stderr
            assert first.stdout.strip() == (
                "civil_affairs 2026-03: imported: 2 line(s), 2 new, 0 updated, 0 exited"
            )
            again = _cli(tmp_path, url, *args, "--month", "2026-03")
            assert again.returncode == 0, again.stderr
            assert "already imported (replay)" in again.stdout
            listed.write_text(json.dumps([_line("P1", exited_on="2026-03-20")]), encoding="utf-8")
            other = _cli(tmp_path, url, *args, "--month", "2026-03")
            assert other.returncode == 1 and "refused" in other.stderr, other.stderr
            april = _cli(tmp_path, url, *args, "--month", "2026-04")
            assert april.returncode == 0, april.stderr
            assert "0 new, 0 updated, 1 exited" in april.stdout
            bad = _cli(tmp_path, url, *args, "--month", "2026-4")
            assert bad.returncode == 1 and "month" in bad.stderr, bad.stderr
            with engine.connect() as connection:
                rows = connection.execute(
                    select(RecipientCategory.valid_to).order_by(RecipientCategory.id)
                ).all()
            assert [str(row.valid_to) for row in rows] == ["2026-03-20", "None"]
        finally:
            engine.dispose()
