"""Ledger benchmark (issue 4), PostgreSQL.

1. 500,000 two-posting entries posted in batches through ledger.post_many (as the jobs post),
   one transaction per batch; entries/s.
2. Balance reads after 10k and after 1M postings: the maintained balance (O(1)) and the
   as-of balance (a SUM over the account's postings), median latency.
3. Single-entry posting, one commit each (issue 20.1), in rounds (medians), the variants taking
   turns 50 entries at a time:
   two bare row inserts with one commit each (plain tables without triggers: the floor any
   posting API pays for a commit); `ledger.post` the Python way (8 statements) and PostgreSQL's
   one call (`ledger_post_one`), both through the app's engine (pool pre-ping on), and the
   one call and the bare inserts again on an engine without the pre-ping; optionally
   django-hordak's `transfer_to` (bench/hordak/run.py, its own virtualenv) on the same server.

Run: .venv/bin/python -m bench.ledger [--entries 500000] [--batch 5000] [--single 1000]
     [--rounds 3] [--chunk 50] [--hordak /tmp/hordak-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import posting
from app.ledger import service as ledger
from app.ledger.rules import Draft, DraftLines, account_code
from bench.common import ADMIN_URL, Timer, fresh_postgres, peak_rss_mb

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


BARE = "bare 2-row insert + commit (pre-ping engine)"
BARE_NO_PING = "bare 2-row insert + commit (no pre-ping)"
OLD = "ledger.post, Python path (8 statements)"
NEW = "ledger.post, one call (ledger_post_one)"
NEW_NO_PING = "ledger.post, one call, engine without pre-ping"
HORDAK = "django-hordak transfer_to (own venv, same server)"


def _single_rounds(engine: Engine, url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """entries/s per variant per round. In a round the variants take turns `--chunk` entries
    at a time, so a change of the machine's load falls on each alike."""
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
    no_ping = make_engine(url, pool_pre_ping=False)
    counter = iter(range(args.entries, 10**9))

    def bare(target: Engine) -> Callable[[int], float]:
        def run(count: int) -> float:
            timer = Timer()
            for _ in range(count):
                with target.begin() as connection:
                    entry_id = connection.execute(
                        text("INSERT INTO bare_entry (key) VALUES (:k) RETURNING id"),
                        {"k": f"b{next(counter)}"},
                    ).scalar_one()
                    connection.execute(
                        text(
                            "INSERT INTO bare_posting (entry_id, account_id, side, amount_fen) "
                            "VALUES (:e, 1, 'D', 5), (:e, 2, 'C', 5)"
                        ),
                        {"e": entry_id},
                    )
            return timer.seconds

        return run

    def post(target: Engine, one_call: bool) -> Callable[[int], float]:
        factory = make_sessionmaker(target)

        def run(count: int) -> float:
            posting.ONE_CALL_POST = one_call
            try:
                timer = Timer()
                for _ in range(count):
                    with transaction(factory) as session:
                        ledger.post(session, _draft(next(counter)), now=NOW)
                return timer.seconds
            finally:
                posting.ONE_CALL_POST = True

        return run

    variants: dict[str, Callable[[int], float]] = {
        BARE: bare(engine),
        OLD: post(engine, False),
        NEW: post(engine, True),
        NEW_NO_PING: post(no_ping, True),
        BARE_NO_PING: bare(no_ping),
    }
    hordak = _Hordak(args.hordak) if args.hordak else None
    if hordak:
        variants[HORDAK] = hordak.run
    rates: dict[str, list[float]] = {label: [] for label in variants}
    try:
        for _ in range(args.rounds):
            seconds = dict.fromkeys(variants, 0.0)
            for start in range(0, args.single, args.chunk):
                for label, run in variants.items():
                    seconds[label] += run(min(args.chunk, args.single - start))
            for label in variants:
                rates[label].append(args.single / seconds[label])
    finally:
        no_ping.dispose()
        if hordak:
            hordak.close()
    with transaction(make_sessionmaker(engine)) as session:
        report = ledger.verify(session)
    assert report.ok, report
    return rates


HORDAK_SCRIPT = "bench/hordak/run.py"
HORDAK_DATABASE = "fundledger_bench_hordak"


class _Hordak:
    """bench/hordak/run.py in its own virtualenv and database, serving counts on stdin."""

    def __init__(self, python: str) -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{HORDAK_DATABASE}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{HORDAK_DATABASE}"')
        url = make_url(ADMIN_URL).set(database=HORDAK_DATABASE)
        command = [python, HORDAK_SCRIPT, "--url", url.render_as_string(hide_password=False)]
        subprocess.run([*command, "--setup"], check=True, capture_output=True)
        self.process = subprocess.Popen(
            [*command, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, count: int) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{count}\n")
        self.process.stdin.flush()
        return float(json.loads(self.process.stdout.readline())["seconds"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{HORDAK_DATABASE}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=50, help="entries per variant per turn")
    parser.add_argument("--hordak", help="python of a virtualenv with django-hordak")
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
        if posted * 2 > 10_000:
            reads[f"{posted * 2:,}"] = _read_latency(factory, hot, posted)
        with transaction(factory) as session:
            report = ledger.verify(session)
        assert report.ok and report.entries_checked == args.entries

        singles = _single_rounds(engine, url, args)
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
    medians = {label: statistics.median(rates) for label, rates in singles.items()}
    # each variant against the bare inserts through an engine configured as its own
    same_engine = {NEW_NO_PING: BARE_NO_PING, BARE_NO_PING: BARE_NO_PING}
    print()
    print(
        f"| single entry, one commit each ({args.rounds} rounds of {args.single:,}) "
        "| median entries/s | rounds | vs bare inserts | vs hordak |"
    )
    print("|---|---|---|---|---|")
    for label, rates in singles.items():
        hordak = medians.get(HORDAK)
        print(
            f"| {label} | {medians[label]:,.0f} | {' / '.join(f'{r:,.0f}' for r in rates)} | "
            f"{medians[label] / medians[same_engine.get(label, BARE)]:.2f} | "
            f"{'' if hordak is None else f'{medians[label] / hordak:.2f}'} |"
        )
    print(f"| peak RSS | {peak_rss_mb():.0f} MB |")


if __name__ == "__main__":
    main()
