"""Daily batch benchmark (issue 6), PostgreSQL: one business date with N settlements over
M institutions (seeding by COPY, not timed); batch generation time and peak memory against
the limit of a bare INSERT … SELECT … GROUP BY over the same table.

Run: .venv/bin/python -m bench.daily [--settlements 1000000] [--institutions 10000]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import text

from app.clock import SHANGHAI
from app.daily import generation as daily_generation
from app.daily import service as daily
from app.db import insert_rows, make_engine, make_sessionmaker, transaction
from app.institutions import service as institutions
from app.settlements.uploads import SETTLEMENT
from app.workdays.rules import WorkCalendar
from bench.common import Timer, fresh_postgres, seed_region

DAY = date(2026, 10, 12)
NOW = datetime(2026, 10, 13, tzinfo=UTC)


def _seed(url: str, settlements: int, count: int) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        seed_region(session, "640100", ("310",), count, NOW)
    start = datetime.combine(DAY, clock_time(8), tzinfo=SHANGHAI)
    chunk = 100_000
    for first in range(0, settlements, chunk):
        rows = []
        for i in range(first, min(settlements, first + chunk)):
            fund_fen = 100_000 + (i * 7919) % 900_000
            rows.append(
                {
                    "id": i + 1,
                    "fixmedins_code": f"H{i % count:05d}",
                    "setl_id": f"S{i:09d}",
                    "mdtrt_id": None,
                    "psn_no": f"P{i}",
                    "insutype": "310",
                    "med_type": "21",
                    "insuplc_admdvs": "640104",
                    "setl_time": start + timedelta(seconds=i % 36000),
                    "setl_date": DAY,
                    "medfee_sumamt_fen": fund_fen + 10_000,
                    "hifp_pay_fen": fund_fen,
                    "hifob_pay_fen": 0,
                    "fund_amount_fen": fund_fen,
                    "fund_pay_sumamt_fen": None,
                    "psn_cash_pay_fen": None,
                    "acct_pay_fen": None,
                    "clr_type": None,
                    "clr_way": None,
                    "region_code": "640100",
                    "period": "2026-10",
                    "batch_date": DAY,
                    "ratio_bp": 6000,
                    "daily_amount_fen": (fund_fen * 6000 + 5000) // 10000,
                    "content_hash": "0" * 64,
                    "uploaded_at": start + timedelta(seconds=i % 36000),
                    "uploaded_by": "bench",
                }
            )
        with transaction(factory) as session:
            insert_rows(session, SETTLEMENT, rows)
    with engine.begin() as connection:
        connection.execute(text("SELECT setval('settlement_id_seq', :n)"), {"n": settlements})
        connection.execute(text("ANALYZE"))
    engine.dispose()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(settlements: int, count: int) -> dict[str, float]:
    with fresh_postgres() as url:
        _seed(url, settlements, count)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with engine.begin() as connection:  # the same warm cache for both
            connection.execute(text("SELECT count(*), sum(fund_amount_fen) FROM settlement"))
            connection.execute(
                text(
                    "CREATE TABLE bare_line (fixmedins_code text, settlements bigint, fund bigint, amount bigint)"
                )
            )
        posting = {"seconds": 0.0}
        original = daily_generation._post_generation

        def timed_posting(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            original(*args, **kwargs)
            posting["seconds"] += time.perf_counter() - started

        daily_generation._post_generation = timed_posting  # type: ignore[assignment]
        rss_before = _rss_mb()
        timer = Timer()
        with transaction(factory) as session:
            fund = institutions.get_fund_ledger(session, "640100", "310")
            batch = daily.generate(session, fund, DAY, now=NOW, calendar=WorkCalendar())
            assert batch is not None and batch.settlement_count == settlements
            assert batch.line_count == count
        generation = timer.seconds
        rss_after = _rss_mb()
        timer = Timer()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO bare_line SELECT fixmedins_code, count(*), sum(fund_amount_fen),"
                    " sum((fund_amount_fen * 6000 + 5000) / 10000) FROM settlement"
                    " WHERE region_code = '640100' AND insutype = '310' AND setl_date <= :d"
                    " GROUP BY fixmedins_code"
                ),
                {"d": DAY},
            )
        bare = timer.seconds
        engine.dispose()
    return {
        "generation": generation,
        "posting": posting["seconds"],
        "bare": bare,
        "rss_before": rss_before,
        "rss_after": rss_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settlements", type=int, default=1_000_000)
    parser.add_argument("--institutions", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.settlements, args.institutions)
    lines_only = result["generation"] - result["posting"]
    print(
        f"| {args.settlements:,} | {args.institutions:,} | {result['generation']:.2f} s | "
        f"{result['posting']:.2f} s | {lines_only:.2f} s | {result['bare']:.2f} s | "
        f"{result['generation'] / result['bare']:.1f} | {lines_only / result['bare']:.1f} | "
        f"{result['rss_before']:.0f} → {result['rss_after']:.0f} MB |"
    )


if __name__ == "__main__":
    time.sleep(0)
    main()
