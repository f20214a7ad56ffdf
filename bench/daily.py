"""Daily batch benchmark (issue 6), PostgreSQL: one business date with N settlements over
M institutions (seeding by COPY, not timed); batch generation time and peak memory against
the limit of a bare INSERT … SELECT … GROUP BY over the same table.

Run: .venv/bin/python -m bench.daily [--settlements 1000000] [--institutions 10000]
     [--rounds 3 [--before FOLDER]] (interleaved rounds, see `rounds`) [--second-day]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import migrate
from app.clock import SHANGHAI
from app.daily import generation as daily_generation
from app.daily import rules as daily_rules
from app.daily import service as daily
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions import maintenance
from app.institutions import service as institutions
from app.institutions.models import Enrollment, Institution
from app.institutions.schemas import EnrollmentIn
from app.settlements.uploads import insert_settlements
from app.wiring import wire
from app.workdays.rules import WorkCalendar
from bench.common import ADMIN_URL, BENCH_ADMIN, Timer, fresh_postgres, seed_region

DAY = date(2026, 10, 12)
NOW = datetime(2026, 10, 13, tzinfo=UTC)
PREVIOUS = DAY - timedelta(days=1)
# `--second-day`: the day before is seeded too and its batch generated (not timed): the
# measured batch finds every account existing (the balance-update path), as on any day but a
# fund's first.
SECOND_DAY = False
# Set by `bench.history`: the batches up to PREVIOUS count as generated (older settlements are
# in the table), so the bare aggregate reads the measured batch's range only, as it does.
HISTORY = False


def _enrol(session: Session, count: int) -> None:
    """Every institution enrolled in the fund through the service (not timed): since issue
    20.3 an enrolment opens the institution's accounts of that fund (`app.wiring`), so the
    first day's batch finds them; an older checkout (`--before`) enrols without accounts and
    its batch creates them."""
    wire()
    enrolment = EnrollmentIn(insutype="310", start_date=date(2026, 1, 1))
    for institution in session.scalars(select(Institution).order_by(Institution.code)):
        maintenance.add_enrollment(session, institution, enrolment, actor=BENCH_ADMIN, now=NOW)
    assert session.scalar(select(func.count()).select_from(Enrollment)) == count


def _seed(url: str, settlements: int, count: int) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        seed_region(session, "640100", ("310",), count, NOW)
        if not SECOND_DAY:  # on a second day the first day's batch made the accounts anyway
            _enrol(session, count)
    days = (PREVIOUS, DAY) if SECOND_DAY else (DAY,)
    chunk = 100_000
    for first in range(0, settlements * len(days), chunk):
        rows = []
        for i in range(first, min(settlements * len(days), first + chunk)):
            day = days[i // settlements]
            start = datetime.combine(day, clock_time(8), tzinfo=SHANGHAI)
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
                    "setl_date": day,
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
                    "batch_date": day,
                    "ratio_bp": 6000,
                    "daily_amount_fen": (fund_fen * 6000 + 5000) // 10000,
                    "content_hash": "0" * 64,
                    "uploaded_at": start + timedelta(seconds=i % 36000),
                    "uploaded_by": "bench",
                }
            )
        with transaction(factory) as session:
            insert_settlements(session, rows)
    with engine.begin() as connection:
        connection.execute(
            text("SELECT setval('settlement_id_seq', :n)"), {"n": settlements * len(days)}
        )
        connection.execute(text("ANALYZE"))
    engine.dispose()


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a PostgreSQL backend on this host: on a shared machine
    the wall clock counts the other processes' turns, the CPU time only the work."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, settlements: int, count: int) -> dict[str, float]:
    """One generation (committed) and the bare aggregate, on a seeded database."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with engine.begin() as connection:  # the same warm cache for both
        connection.execute(text("SELECT count(*), sum(fund_amount_fen) FROM settlement"))
        connection.execute(
            text(
                "CREATE TABLE bare_line (fixmedins_code text, settlements bigint, fund bigint, amount bigint)"
            )
        )
    if SECOND_DAY:
        with transaction(factory) as session:
            fund = institutions.get_fund_ledger(session, "640100", "310")
            daily.generate(session, fund, PREVIOUS, now=NOW, calendar=WorkCalendar())
        with engine.connect() as connection:  # a day later: autovacuum has been by
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )
    posting = {"seconds": 0.0}
    original = daily_generation._post_generation

    def timed_posting(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        original(*args, **kwargs)
        posting["seconds"] += time.perf_counter() - started

    daily_generation._post_generation = timed_posting  # type: ignore[assignment]
    # The working-day calendar loads the `holidays` data of a year on first use (~0.15 s);
    # a service or job process has it loaded: not part of a batch's cost.
    daily_rules.pay_date(WorkCalendar(), DAY)
    rss_before = _rss_mb()
    client = time.process_time()
    with transaction(factory) as session:
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        server = _backend_cpu(pid)
        timer = Timer()
        fund = institutions.get_fund_ledger(session, "640100", "310")
        batch = daily.generate(session, fund, DAY, now=NOW, calendar=WorkCalendar())
        assert batch is not None and batch.settlement_count == settlements
        assert batch.line_count == count
    generation = timer.seconds  # the commit included
    generation_client = time.process_time() - client
    generation_cpu = generation_client + _backend_cpu(pid) - server
    daily_generation._post_generation = original  # type: ignore[assignment]
    rss_after = _rss_mb()
    client = time.process_time()
    with engine.begin() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        server = _backend_cpu(pid)
        timer = Timer()
        connection.execute(
            text(
                "INSERT INTO bare_line SELECT fixmedins_code, count(*), sum(fund_amount_fen),"
                " sum((fund_amount_fen * 6000 + 5000) / 10000) FROM settlement"
                " WHERE region_code = '640100' AND insutype = '310' AND setl_date <= :d"
                + (" AND batch_date > :previous" if SECOND_DAY or HISTORY else "")
                + " GROUP BY fixmedins_code"
            ),
            {"d": DAY, "previous": PREVIOUS},
        )
    bare = timer.seconds
    bare_cpu = time.process_time() - client + _backend_cpu(pid) - server
    with engine.begin() as connection:  # the postings are all there, once, and balanced
        entries, postings, net = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM journal_entry), count(*),"
                " coalesce(sum(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)"
                " FROM ledger_posting"
            )
        ).one()
        batches = 2 if SECOND_DAY else 1
        assert (entries, postings, net) == (batches * count, 2 * batches * count, 0), (
            entries,
            postings,
            net,
        )
    engine.dispose()
    return {
        "generation": generation,
        "posting": posting["seconds"],
        "bare": bare,
        "generation_cpu": generation_cpu,
        "generation_client_cpu": generation_client,
        "bare_cpu": bare_cpu,
        "rss_before": rss_before,
        "rss_after": rss_after,
    }


def run(settlements: int, count: int) -> dict[str, float]:
    with fresh_postgres() as url:
        _seed(url, settlements, count)
        return measure(url, settlements, count)


# Rounds (issue 20.3): both variants' databases are seeded once as templates, each round copies
# a template to a fresh database (not timed) and measures one variant in a process of its own;
# the variants take turns. "before" is another checkout's `app` (e.g. `git archive main`)
# with this bench directory, run from its folder.


def _database(name: str) -> str:
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def _admin(*statements: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def seed_template(name: str, settlements: int, count: int) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    migrate.upgrade(_database(name))
    _seed(_database(name), settlements, count)
    with psycopg.connect(
        make_url(_database(name))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
        autocommit=True,
    ) as connection:
        connection.execute(
            "VACUUM (FREEZE, ANALYZE)"
        )  # every copy starts clean: no hint bits to set


def one_round(template: str, database: str, settlements: int, count: int) -> dict[str, float]:
    _admin(
        f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
        f'CREATE DATABASE "{database}" TEMPLATE "{template}" STRATEGY FILE_COPY',
        "CHECKPOINT",  # the copy's writes are done before the clock starts
    )
    try:
        return measure(_database(database), settlements, count)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _row(label: str, settlements: int, count: int, result: dict[str, float]) -> str:
    lines_only = result["generation"] - result["posting"]
    return (
        f"| {label}{settlements:,} | {count:,} | {result['generation']:.2f} s | "
        f"{result['posting']:.2f} s | {lines_only:.2f} s | {result['bare']:.2f} s | "
        f"{result['generation'] / result['bare']:.1f} | {lines_only / result['bare']:.1f} | "
        f"{result['rss_before']:.0f} → {result['rss_after']:.0f} MB |"
        + (
            f" CPU {result['generation_cpu']:.2f} s (Python"
            f" {result['generation_client_cpu']:.2f} s) / {result['bare_cpu']:.2f} s ="
            f" {result['generation_cpu'] / result['bare_cpu']:.1f} |"
            if "generation_cpu" in result
            else ""
        )
    )


def rounds(args: argparse.Namespace) -> None:
    here = Path(__file__).resolve().parent.parent
    variants = {"after": here}
    if args.before:
        variants = {"before": Path(args.before).resolve(), "after": here}
    size = ["--settlements", str(args.settlements), "--institutions", str(args.institutions)]
    size += ["--second-day"] if args.second_day else []

    def child(folder: Path, *extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bench.daily", *size, *extra],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(folder)},
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    for variant, folder in variants.items():
        child(folder, "--seed-template", f"{args.database}_tpl_{variant}")
    results: dict[str, list[dict[str, float]]] = {variant: [] for variant in variants}
    for number in range(args.rounds):
        for variant, folder in variants.items():
            output = child(
                folder, "--round", f"{args.database}_tpl_{variant}", "--database", args.database
            )
            result = json.loads(output.strip().splitlines()[-1])
            results[variant].append(result)
            print(
                _row(f"round {number + 1} {variant}: ", args.settlements, args.institutions, result)
            )
            sys.stdout.flush()
    for variant in variants:
        _admin(f'DROP DATABASE IF EXISTS "{args.database}_tpl_{variant}" WITH (FORCE)')
        ratios = sorted(r["generation"] / r["bare"] for r in results[variant])
        cpu = sorted(r["generation_cpu"] / r["bare_cpu"] for r in results[variant])
        print(
            f"{variant}: CPU ratios {' / '.join(f'{r:.2f}' for r in cpu)},"
            f" median {cpu[len(cpu) // 2]:.2f}"
        )
        print(
            f"{variant}: ratios {' / '.join(f'{r:.2f}' for r in ratios)}, median {ratios[len(ratios) // 2]:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settlements", type=int, default=1_000_000)
    parser.add_argument("--institutions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds (see above)")
    parser.add_argument("--before", help="folder of the checkout measured as 'before'")
    parser.add_argument("--database", default="fl_dailyperf", help="database name of the rounds")
    parser.add_argument("--second-day", action="store_true", help="measure the second batch")
    parser.add_argument("--seed-template", help=argparse.SUPPRESS)
    parser.add_argument("--round", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global SECOND_DAY
    SECOND_DAY = args.second_day
    if args.seed_template:
        seed_template(args.seed_template, args.settlements, args.institutions)
    elif args.round:
        result = one_round(args.round, args.database, args.settlements, args.institutions)
        print(json.dumps(result))
    elif args.rounds:
        rounds(args)
    else:
        result = run(args.settlements, args.institutions)
        print(_row("", args.settlements, args.institutions, result))


if __name__ == "__main__":
    main()
