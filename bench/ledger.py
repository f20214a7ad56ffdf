"""Ledger benchmark (issue 4), PostgreSQL.

1. 500,000 two-posting entries posted in batches through ledger.post_many (as the jobs post),
   one transaction per batch; entries/s.
2. Balance reads after 10k and after 1M postings: the maintained balance (O(1)) and the
   as-of balance (a SUM over the account's postings), median latency.
3. Single-entry posting, one commit each, against the limit of two bare row inserts with one
   commit each (same tables, triggers off: the floor any posting API pays for a commit).

Run: .venv/bin/python -m bench.ledger [--entries 500000] [--batch 5000] [--single 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import service as ledger
from app.ledger.rules import Draft, DraftLines, account_code
from bench.common import Timer, fresh_postgres, peak_rss_mb

INSTITUTIONS = 1000
NOW = datetime(2026, 3, 6, tzinfo=UTC)


def _draft(i: int) -> Draft:
    institution = f"H{i % INSTITUTIONS:04d}"
    if i % 2 == 0:  # accrual of a daily line
        debit = account_code("expense", "640100", "310", institution)
        credit = account_code("payable", "640100", "310", institution)
    else:  # payment sent
        debit = account_code("payable", "640100", "310", institution)
        credit = account_code("in_transit", "640100", "310")
    return Draft(
        kind="bench",
        key=f"bench:{i}",
        region_code="640100",
        insutype="310",
        fixmedins_code=institution,
        lines=DraftLines().transfer(debit, credit, 100 + i % 997).result(),
        effective_at=NOW + timedelta(seconds=i * 60),
        business_ref=f"bench:{i}",
    )


def _read_latency(factory, code: str, posted: int, rounds: int = 50) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Current balance, and the balance as of the midpoint (half the postings later)."""
    midpoint = NOW + timedelta(seconds=posted // 2 * 60)
    current, as_of = [], []
    for _ in range(rounds):
        with transaction(factory) as session:
            start = time.perf_counter()
            ledger.balance(session, code)
            current.append(time.perf_counter() - start)
            start = time.perf_counter()
            ledger.balance_as_of(session, code, midpoint)
            as_of.append(time.perf_counter() - start)
    return statistics.median(current) * 1000, statistics.median(as_of) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--single", type=int, default=2_000)
    args = parser.parse_args()
    with fresh_postgres() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        hot = account_code("in_transit", "640100", "310")
        reads: dict[str, tuple[float, float]] = {}
        timer = Timer()
        posted = 0
        while posted < args.entries:
            size = min(args.batch, args.entries - posted)
            with transaction(factory) as session:
                ledger.post_many(
                    session, [_draft(i) for i in range(posted, posted + size)], now=NOW
                )
            posted += size
            if posted * 2 >= 10_000 and "10k" not in reads:
                paused = time.perf_counter()
                reads["10k"] = _read_latency(factory, hot, posted)
                timer.start += time.perf_counter() - paused
        batch_seconds = timer.seconds
        reads["1M"] = _read_latency(factory, hot, posted)
        with transaction(factory) as session:
            report = ledger.verify(session)
        assert report.ok and report.entries_checked == args.entries

        timer = Timer()
        for i in range(args.single):
            with transaction(factory) as session:
                ledger.post(session, _draft(args.entries + i), now=NOW)
        single_seconds = timer.seconds

        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE bare_entry (id bigserial PRIMARY KEY, key text UNIQUE)")
            )
            connection.execute(
                text(
                    "CREATE TABLE bare_posting (id bigserial PRIMARY KEY, entry_id bigint, "
                    "account_id bigint, side char(1), amount_fen bigint)"
                )
            )
        timer = Timer()
        for i in range(args.single):
            with engine.begin() as connection:
                entry_id = connection.execute(
                    text("INSERT INTO bare_entry (key) VALUES (:k) RETURNING id"), {"k": f"b{i}"}
                ).scalar_one()
                connection.execute(
                    text(
                        "INSERT INTO bare_posting (entry_id, account_id, side, amount_fen) "
                        "VALUES (:e, 1, 'D', 5), (:e, 2, 'C', 5)"
                    ),
                    {"e": entry_id},
                )
        bare_seconds = timer.seconds
        engine.dispose()

    print(
        f"| batched post_many ({args.batch}/tx) | {args.entries:,} entries | "
        f"{batch_seconds:.1f} s | {args.entries / batch_seconds:,.0f} entries/s |"
    )
    for label, (current, as_of) in reads.items():
        print(
            f"| balance read after {label} postings | current {current:.2f} ms | "
            f"as-of midpoint {as_of:.2f} ms (median of 50) |"
        )
    print(
        f"| single post, one commit each | {args.single:,} entries | {single_seconds:.1f} s | "
        f"{args.single / single_seconds:,.0f} entries/s |"
    )
    print(
        f"| bare 2-row insert, one commit each | {args.single:,} | {bare_seconds:.1f} s | "
        f"{args.single / bare_seconds:,.0f} entries/s |"
    )
    print(f"| peak RSS | {peak_rss_mb():.0f} MB |")


if __name__ == "__main__":
    main()
