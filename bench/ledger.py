"""Ledger benchmark (issue 4), PostgreSQL.

1. 500,000 two-posting entries posted in batches through ledger.post_many (as the jobs post),
   one transaction per batch; entries/s.
2. Balance reads after 10k and after 1M postings: the maintained balance (O(1)) and the
   as-of balance (a SUM over the account's postings), median latency.
3. Single-entry posting, one commit each (issue 20.1), in interleaved rounds (medians):
   two bare row inserts with one commit each (plain tables without triggers: the floor any
   posting API pays for a commit); `ledger.post` the Python way (8 statements) and PostgreSQL's
   one call (`ledger_post_one`), both through the app's engine (pool pre-ping on), and the
   one call and the bare inserts again on an engine without the pre-ping; optionally
   django-hordak's `transfer_to` (bench/hordak/run.py, its own virtualenv) on the same server.

Run: .venv/bin/python -m bench.ledger [--entries 500000] [--batch 5000] [--single 1000]
     [--rounds 3] [--hordak /tmp/hordak-venv/bin/python]
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
    """entries/s per variant per round; the variants take turns so the machine's load falls
    on each alike."""
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

    def bare(target: Engine) -> Callable[[], None]:
        def run() -> None:
            for _ in range(args.single):
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

        return run

    def post(target: Engine, one_call: bool) -> Callable[[], None]:
        factory = make_sessionmaker(target)

        def run() -> None:
            posting.ONE_CALL_POST = one_call
            try:
                for _ in range(args.single):
                    with transaction(factory) as session:
                        ledger.post(session, _draft(next(counter)), now=NOW)
            finally:
                posting.ONE_CALL_POST = True

        return run

    variants: dict[str, Callable[[], None]] = {
        BARE: bare(engine),
        OLD: post(engine, False),
        NEW: post(engine, True),
        NEW_NO_PING: post(no_ping, True),
        BARE_NO_PING: bare(no_ping),
    }
    hordak_url = _hordak_setup(args.hordak) if args.hordak else None
    rates: dict[str, list[float]] = {label: [] for label in variants}
    if hordak_url:
        rates[HORDAK] = []
    try:
        for _ in range(args.rounds):
            for label, run in variants.items():
                timer = Timer()
                run()
                rates[label].append(args.single / timer.seconds)
            if hordak_url:
                rates[HORDAK].append(_hordak_round(args.hordak, hordak_url, args.single))
    finally:
        no_ping.dispose()
        if hordak_url:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute('DROP DATABASE IF EXISTS "fundledger_bench_hordak" WITH (FORCE)')
    with transaction(make_sessionmaker(engine)) as session:
        report = ledger.verify(session)
    assert report.ok, report
    return rates


HORDAK_SCRIPT = "bench/hordak/run.py"


def _hordak_setup(python: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS "fundledger_bench_hordak" WITH (FORCE)')
        admin.execute('CREATE DATABASE "fundledger_bench_hordak"')
    url = make_url(ADMIN_URL).set(database="fundledger_bench_hordak")
    text_url = url.render_as_string(hide_password=False)
    subprocess.run(
        [python, HORDAK_SCRIPT, "--url", text_url, "--setup"], check=True, capture_output=True
    )
    return text_url


def _hordak_round(python: str, url: str, count: int) -> float:
    done = subprocess.run(
        [python, HORDAK_SCRIPT, "--url", url, "--count", str(count)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["count"]) / float(result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
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
