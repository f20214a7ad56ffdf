"""As-of balance benchmark (issue 20.2), PostgreSQL.

1,000,000 two-posting entries, every one of them on one hot account (`in_transit`: a payment
sent, then its bank result), posted through ledger.post_many in batches of 5,000 (not timed
beyond the rate); then balance reads of the hot account as of random times:

- without snapshots (the tail is every posting up to the time: what it cost before),
- after `snapshots.take` (timed: cutting the whole history), every 1,000 entries,

on both time bases (effective: one distinct time per entry; recorded: one time per batch of
5,000, the ties a job's batch makes), median / p95 / max of 200 reads each, every read checked
against the plain SUM over the postings; then `ledger verify` with the snapshots (timed).

Run: .venv/bin/python -m bench.as_of [--entries 1000000] [--batch 5000] [--every 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import service as ledger
from app.ledger import snapshots
from app.ledger.rules import Draft, DraftLines, account_code
from bench.common import Timer, fresh_postgres, peak_rss_mb

INSTITUTIONS = 200
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOT = account_code("in_transit", "640100", "310")


def _draft(i: int) -> Draft:
    institution = f"H{i % INSTITUTIONS:04d}"
    lines = DraftLines()
    if i % 2 == 0:  # a payment sent
        lines.transfer(account_code("payable", "640100", "310", institution), HOT, 100 + i % 997)
    else:  # its bank result
        lines.transfer(HOT, account_code("bank", "640100", "310"), 100 + (i - 1) % 997)
    return Draft(
        kind="bench",
        key=f"bench:{i}",
        region_code="640100",
        insutype="310",
        fixmedins_code=institution if i % 2 == 0 else None,
        lines=lines.result(),
        effective_at=NOW + timedelta(seconds=i),
        business_ref=f"bench:{i}",
    )


def _reads(factory, moments: list[datetime], basis: str) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds per as-of read, each checked against the plain SUM."""
    column = "effective_at" if basis == "effective" else "recorded_at"
    took = []
    for at in moments:
        with transaction(factory) as session:
            start = time.perf_counter()
            value = ledger.balance_as_of(session, HOT, at, basis=basis)
            took.append((time.perf_counter() - start) * 1000)
            plain = session.execute(
                text(
                    "SELECT coalesce(sum(CASE WHEN p.side = 'D' THEN p.amount_fen"
                    " ELSE -p.amount_fen END), 0) FROM ledger_posting p"
                    " JOIN journal_entry e ON e.id = p.entry_id"
                    " JOIN ledger_account a ON a.id = p.account_id"
                    f" WHERE a.code = :code AND e.{column} <= :at"
                ),
                {"code": HOT, "at": at},
            ).scalar_one()
            assert value == plain, (at, basis, value, plain)
    return took


def _round_trips(factory, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds of a bare `SELECT 1` in a transaction of its own: the floor of any read."""
    took = []
    for _ in range(count):
        with transaction(factory) as session:
            start = time.perf_counter()
            session.execute(text("SELECT 1")).scalar_one()
            took.append((time.perf_counter() - start) * 1000)
    return took


def _row(label: str, took: list[float]) -> str:
    ordered = sorted(took)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"| {label} | {statistics.median(took):.2f} ms | {p95:.2f} ms | {max(took):.2f} ms |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--baseline-reads", type=int, default=20)
    args = parser.parse_args()
    rows: list[str] = []
    with fresh_postgres() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        timer = Timer()
        posted = 0
        while posted < args.entries:
            size = min(args.batch, args.entries - posted)
            with transaction(factory) as session:
                drafts = [_draft(i) for i in range(posted, posted + size)]
                ledger.post_many(session, drafts, now=NOW + timedelta(seconds=posted))
            posted += size
        post_seconds = timer.seconds
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        rng = random.Random(20)
        span = args.entries  # seconds of effective time
        effective = [NOW + timedelta(seconds=rng.uniform(0, span)) for _ in range(args.reads)]
        recorded = [NOW + timedelta(seconds=rng.uniform(0, span)) for _ in range(args.reads)]

        base = args.baseline_reads
        rows.append(_row("effective, no snapshots", _reads(factory, effective[:base], "effective")))
        rows.append(_row("recorded, no snapshots", _reads(factory, recorded[:base], "recorded")))

        timer = Timer()
        written = snapshots.take(factory, every=args.every, now=NOW)
        take_seconds = timer.seconds
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        rows.append(_row("effective, snapshots", _reads(factory, effective, "effective")))
        rows.append(_row("recorded, snapshots", _reads(factory, recorded, "recorded")))
        rows.append(_row("bare SELECT 1 (the floor)", _round_trips(factory, args.reads)))

        timer = Timer()
        with transaction(factory) as session:
            report = ledger.verify(session)
        verify_seconds = timer.seconds
        assert report.ok, report
        with transaction(factory) as session:
            counts = snapshots.entry_counts(session)
        engine.dispose()

    hot_postings = args.entries
    print(
        f"{args.entries:,} entries ({hot_postings:,} postings on the hot account) posted in"
        f" {post_seconds:.0f} s ({args.entries / post_seconds:,.0f} entries/s)\n"
    )
    print(
        f"| as-of read of the hot account ({args.reads} random times; baseline {base}) "
        "| median | p95 | max |"
    )
    print("|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print(
        f"| snapshots taken (every {args.every:,} entries, both bases) | "
        f"{sum(written.values()):,} | {take_seconds:.1f} s |"
    )
    print(
        f"| ledger verify, snapshots included | {report.snapshots.snapshots_checked:,} "
        f"snapshots | {verify_seconds:.1f} s |"
    )
    print(f"| entries after the latest snapshot | {counts[0].since_snapshot:,} | |")
    print(f"| peak RSS | {peak_rss_mb():.0f} MB | |")


if __name__ == "__main__":
    main()
