"""`fundledger assistance import-deductions FILE` (issue 22 item 3): the API's file import from
the command line: all or nothing, each row idempotent on its reference, refusals listed by
row with exit 1."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select

from app.assistance.deduction_models import DeductionRecord
from tests.support import cli
from tests.support.databases import fresh_database

HEADER = "参考号,扣减类型,人员编号,扣减金额,年度"


def test_import_deductions_then_replay_then_refusals(tmp_path: Path) -> None:
    with fresh_database() as url:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "INSERT INTO region (code, name, division_prefixes) "
                    "VALUES ('640100', '银川市', '[\"6401\"]')"
                )
                connection.exec_driver_sql(
                    "INSERT INTO recipient (psn_no, name, certno, region_code, "
                    "last_year_income_fen, created_at, updated_at) VALUES ('P1', '张某', "
                    "'640102198001011234', '640100', 0, '2026-01-01 00:00:00+00:00', "
                    "'2026-01-01 00:00:00+00:00')"
                )
            listed = tmp_path / "relief.csv"
            listed.write_text(f"{HEADER}\nR1,综合减负,P1,1000.00,2026\n", encoding="utf-8")
            args = ("assistance", "import-deductions", str(listed))
            first = cli.run(tmp_path, *args, url=url)
            assert first.returncode == 0, first.stderr
            assert first.stdout.strip() == (
                "relief.csv: 1 row(s), 1 recorded, 0 already recorded (replay)"
            )
            again = cli.run(tmp_path, *args, url=url)
            assert again.returncode == 0, again.stderr
            assert "0 recorded, 1 already recorded (replay)" in again.stdout
            listed.write_text(
                f"{HEADER}\nR2,综合减负,P1,1.001,2026\nR3,综合减负,P9,1.00,2026\n",
                encoding="utf-8",
            )
            bad = cli.run(tmp_path, *args, url=url)
            assert bad.returncode == 1
            assert "rows.2.amount" in bad.stderr and "rows.3.psn_no" in bad.stderr, bad.stderr
            missing = cli.run(tmp_path, "assistance", "import-deductions", "nope.csv", url=url)
            assert missing.returncode == 1 and "nope.csv" in missing.stderr
            with engine.connect() as connection:
                stored = connection.scalar(select(func.count()).select_from(DeductionRecord))
            assert stored == 1
        finally:
            engine.dispose()
