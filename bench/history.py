"""History benchmark (issue 20.4), PostgreSQL: do the daily batch and the monthly computation
slow down with years of settlements in the table (partitioned by period since migration
0032: the history's months get their partitions before the load)?

Each bench's own seeding (`bench.daily`, `bench.monthly`, not timed) makes a template
database "one month"; a copy of it plus N settlements of history (2021-01-01 … 2025-12-31,
the same region, institutions and insurance types, set-based INSERT … SELECT from
generate_series, indexes rebuilt afterwards, then `VACUUM (FREEZE, ANALYZE)`) makes the
template "history". Both templates record the fund ledgers' batches as generated up to the
day before the measured range (`batch_state`), so both measure the same query shape. Rounds
alternate the two templates (each round a fresh copy), timing each bench's own function:
`daily.measure` (generation of 2026-10-12 and the bare aggregate) and the monthly
`compute_due` for 2026-10 (a rolled-back pass first, as `bench.monthly` does, then the timed,
checked one, with the time per stage).

History rows are settlements only: no daily batches, lines, payments nor ledger postings of
those years (12.5M journal entries over 2021-2025 are not cheap to seed).

Run: .venv/bin/python -m bench.history [--history 10000000] [--rounds 2]
     [--daily 1000000/10000] [--monthly 3000000/10000] [--only daily|monthly] [--database fl_hist]
     [--keep] [--skip-seed] (keep / reuse the templates; planner settings of a run, e.g.
     PGOPTIONS='-c random_page_cost=1.1', apply to every connection: libpq reads PGOPTIONS)
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import text

from app import migrate
from app.clock import period_add
from app.db import make_engine, make_sessionmaker
from app.monthly import computation
from app.settlements import partitions
from bench import daily, monthly
from bench.common import Timer
from bench.daily import _admin, _database

FIRST = date(2021, 1, 1)
LAST = date(2025, 12, 31)
CHUNK = 1_000_000


def _connect(name: str) -> psycopg.Connection[Any]:
    return psycopg.connect(_database(name).replace("postgresql+psycopg", "postgresql"))


def _partitions(name: str) -> None:
    """The history's monthly partitions of `settlement`, as the job would have made them."""
    engine = make_engine(_database(name))
    months, period = [], FIRST.strftime("%Y-%m")
    while period <= LAST.strftime("%Y-%m"):
        months.append(period)
        period = period_add(period, 1)
    with make_sessionmaker(engine)() as session, session.begin():
        partitions.ensure(session, months)
    engine.dispose()


def seed_history(name: str, n: int, count: int, region: str, insutypes: tuple[str, ...]) -> None:
    """N settlements over FIRST … LAST in time order (as they were uploaded), settlement g of
    institution g mod M, the insurance type cycling above it; batched (batch date = settlement
    date, 60 %) and in their months' periods. The settlement table's secondary indexes are
    dropped for the load and rebuilt (same definitions); foreign keys not checked per row
    (the institutions exist)."""
    days = (LAST - FIRST).days + 1
    types = "ARRAY[" + ", ".join(f"'{t}'" for t in insutypes) + "]"
    timer = Timer()
    _partitions(name)
    with _connect(name) as connection:
        first_id = connection.execute("SELECT coalesce(max(id), 0) FROM settlement").fetchone()
        assert first_id is not None
        base = int(first_id[0])
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'settlement'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint"
            "   WHERE conrelid = 'settlement'::regclass)"
        ).fetchall()
        uniques = connection.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c"
            " WHERE conrelid = 'settlement_key'::regclass AND contype = 'u'"
            # not the one settlement's foreign key (id, period) stands on
            "  AND NOT EXISTS (SELECT 1 FROM pg_constraint f"
            "    WHERE f.contype = 'f' AND f.conindid = c.conindid)"
        ).fetchall()
        for index, _ in indexes:
            connection.execute(f'DROP INDEX "{index}"')
        for constraint, _ in uniques:
            connection.execute(f'ALTER TABLE settlement_key DROP CONSTRAINT "{constraint}"')
        connection.commit()
        connection.execute("SET session_replication_role = replica")  # no per-row FK checks
        for low in range(0, n, CHUNK):
            high = min(n, low + CHUNK) - 1
            connection.execute(  # the key rows (migration 0032), then the settlements
                "INSERT INTO settlement_key (id, fixmedins_code, setl_id, period)"
                " SELECT %(base)s + g + 1, 'H' || lpad((g %% %(count)s)::text, 5, '0'),"
                "  'Y' || g, to_char(%(first)s::date + (g * %(days)s / %(n)s)::int, 'YYYY-MM')"
                " FROM generate_series(%(low)s::bigint, %(high)s) g",
                {"base": base, "count": count, "low": low, "high": high, "first": FIRST}
                | {"days": days, "n": n},
            )
            connection.execute(
                "INSERT INTO settlement (id, fixmedins_code, setl_id, psn_no, insutype, med_type,"
                " insuplc_admdvs, setl_time, setl_date, medfee_sumamt_fen, hifp_pay_fen,"
                " hifob_pay_fen, fund_amount_fen, region_code, period, batch_date, ratio_bp,"
                " daily_amount_fen, content_hash, uploaded_at, uploaded_by)"
                " SELECT %(base)s + g + 1, 'H' || lpad((g %% %(count)s)::text, 5, '0'),"
                "  'Y' || g, 'P' || g, (" + types + ")[1 + (g / %(count)s) %% %(types)s],"
                "  '21', '640104', t, d, f + 10000, f, 0, f, %(region)s, to_char(d, 'YYYY-MM'),"
                "  d, 6000, (f * 6000 + 5000) / 10000, repeat('0', 64), t, 'bench'"
                " FROM generate_series(%(low)s::bigint, %(high)s) g,"
                " LATERAL (SELECT %(first)s::date + (g * %(days)s / %(n)s)::int AS d,"
                "   100000 + (g * 7919) %% 900000 AS f) x,"
                " LATERAL (SELECT (d + time '08:00') AT TIME ZONE 'Asia/Shanghai'"
                "   + make_interval(secs => g %% 36000) AS t) y",
                {
                    "base": base,
                    "count": count,
                    "types": len(insutypes),
                    "region": region,
                    "low": low,
                    "high": high,
                    "first": FIRST,
                    "days": days,
                    "n": n,
                },
            )
            connection.commit()
            print(f"history: {high + 1:,} rows at {timer.seconds:.0f} s", file=sys.stderr)
        connection.execute("SET session_replication_role = origin")
        connection.execute("SET maintenance_work_mem = '512MB'")
        for constraint, definition in uniques:
            connection.execute(
                f'ALTER TABLE settlement_key ADD CONSTRAINT "{constraint}" {definition}'
            )
        for _, definition in indexes:
            # a partitioned index's definition reads "ON ONLY settlement": it would build
            # none of the partitions' indexes
            connection.execute(definition.replace(" ON ONLY ", " ON "))
        connection.execute("SELECT setval('settlement_id_seq', (SELECT max(id) FROM settlement))")
        connection.commit()
    print(f"history: indexes rebuilt at {timer.seconds:.0f} s", file=sys.stderr)


def _finish(name: str) -> None:
    with _connect(name) as connection:
        connection.autocommit = True
        connection.execute("VACUUM (FREEZE, ANALYZE)")


def _copy(template: str, name: str) -> None:
    _admin(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY',
    )


def _sizes(name: str) -> str:
    with _connect(name) as connection:
        row = connection.execute(
            "SELECT count(*), pg_size_pretty((SELECT sum(pg_total_relation_size(inhrelid))"
            "   FROM pg_inherits WHERE inhparent = 'settlement'::regclass)::bigint),"
            " pg_size_pretty(pg_database_size(current_database())) FROM settlement"
        ).fetchone()
    assert row is not None
    return f"{row[0]:,} settlements, table + indexes {row[1]}, database {row[2]}"


# --- daily ------------------------------------------------------------------------------------


def daily_templates(prefix: str, settlements: int, count: int, history: int) -> None:
    month = f"{prefix}_daily_tpl_0"
    daily.seed_template(month, settlements, count)
    with _connect(month) as connection:  # batches generated through the day before
        connection.execute(
            "INSERT INTO batch_state (fund_ledger_id, last_generated_date)"
            " SELECT id, %(d)s FROM fund_ledger ON CONFLICT (fund_ledger_id)"
            " DO UPDATE SET last_generated_date = excluded.last_generated_date",
            {"d": daily.PREVIOUS},
        )
    _finish(month)
    _copy(month, f"{prefix}_daily_tpl_h")
    seed_history(f"{prefix}_daily_tpl_h", history, count, "640100", ("310",))
    _finish(f"{prefix}_daily_tpl_h")
    for name in (month, f"{prefix}_daily_tpl_h"):
        print(f"{name}: {_sizes(name)}", file=sys.stderr)


def daily_round(prefix: str, variant: str, settlements: int, count: int) -> dict[str, float]:
    daily.HISTORY = True
    return daily.one_round(f"{prefix}_daily_tpl_{variant}", f"{prefix}_daily", settlements, count)


# --- monthly ----------------------------------------------------------------------------------


def monthly_templates(prefix: str, settlements: int, count: int, history: int) -> None:
    month = f"{prefix}_monthly_tpl_0"
    _admin(f'DROP DATABASE IF EXISTS "{month}" WITH (FORCE)', f'CREATE DATABASE "{month}"')
    migrate.upgrade(_database(month))
    child = multiprocessing.get_context("spawn").Process(  # as bench.monthly: its own process
        target=monthly._seed, args=(_database(month), settlements, count, "daily")
    )
    child.start()
    child.join()
    assert child.exitcode == 0, "seeding failed"
    _finish(month)
    _copy(month, f"{prefix}_monthly_tpl_h")
    # the batches of 2026-10 are generated: batch_state is 2026-10-31 already
    seed_history(f"{prefix}_monthly_tpl_h", history, count, monthly.REGION, monthly.INSUTYPES)
    _finish(f"{prefix}_monthly_tpl_h")
    for name in (month, f"{prefix}_monthly_tpl_h"):
        print(f"{name}: {_sizes(name)}", file=sys.stderr)


def monthly_round(prefix: str, variant: str, count: int) -> dict[str, Any]:
    name = f"{prefix}_monthly"
    _copy(f"{prefix}_monthly_tpl_{variant}", name)
    _admin("CHECKPOINT")
    try:
        engine = make_engine(_database(name))
        factory = make_sessionmaker(engine)
        stages = monthly.Stages(engine)
        monthly._compute_all(factory, keep=False)  # warm, rolled back (as bench.monthly)
        with make_engine(_database(name), isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        stages.reset()
        timer = Timer()
        created = monthly._compute_all(factory, keep=True)
        seconds = timer.seconds
        stages.stop()
        monthly._check(engine, count, created)
        engine.dispose()
        return {
            "seconds": seconds,
            "stages": {stage: stages.wall.get(stage, 0.0) for stage in monthly.STAGES},
        }
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- rounds -----------------------------------------------------------------------------------


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _size(option: str) -> tuple[int, int]:
    settlements, institutions = option.split("/")
    return int(settlements), int(institutions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--daily", default="1000000/10000", help="settlements/institutions")
    parser.add_argument("--monthly", default="3000000/10000", help="settlements/institutions")
    parser.add_argument("--only", choices=("daily", "monthly"))
    parser.add_argument("--database", default="fl_hist", help="prefix of the database names")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the templates")
    parser.add_argument("--keep", action="store_true", help="keep the templates")
    args = parser.parse_args()
    benches = [args.only] if args.only else ["daily", "monthly"]
    prefix = args.database
    daily_size = _size(args.daily)
    monthly_size = _size(args.monthly)
    assert computation.compute_due  # the monthly bench's entry point
    timer = Timer()
    if not args.skip_seed:
        if "daily" in benches:
            daily_templates(prefix, *daily_size, args.history)
            print(f"daily templates seeded at {timer.seconds:.0f} s", file=sys.stderr)
        if "monthly" in benches:
            monthly_templates(prefix, *monthly_size, args.history)
            print(f"monthly templates seeded at {timer.seconds:.0f} s", file=sys.stderr)
    print(f"before: {_uptime()}", flush=True)
    labels = {"0": "one month", "h": f"+{args.history:,} history"}
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for number in range(args.rounds):
        for variant in ("0", "h"):
            if "daily" in benches:
                result = daily_round(prefix, variant, *daily_size)
                results.setdefault(("daily", variant), []).append(result)
                print(
                    f"round {number + 1} daily {labels[variant]}: generation"
                    f" {result['generation']:.2f} s (posting {result['posting']:.2f} s, CPU"
                    f" {result['generation_cpu']:.2f} s), bare {result['bare']:.2f} s"
                    f" (CPU {result['bare_cpu']:.2f} s)",
                    flush=True,
                )
            if "monthly" in benches:
                result = monthly_round(prefix, variant, monthly_size[1])
                results.setdefault(("monthly", variant), []).append(result)
                parts = ", ".join(
                    f"{stage} {seconds:.2f}"
                    for stage, seconds in result["stages"].items()
                    if seconds >= 0.01
                )
                print(
                    f"round {number + 1} monthly {labels[variant]}: {result['seconds']:.2f} s"
                    f" ({parts})",
                    flush=True,
                )
    print(f"after: {_uptime()}", flush=True)
    for bench in benches:
        key = "generation" if bench == "daily" else "seconds"
        medians = {}
        for variant in ("0", "h"):
            values = sorted(r[key] for r in results[(bench, variant)])
            medians[variant] = values[len(values) // 2]
            print(f"{bench} {labels[variant]}: {' / '.join(f'{v:.2f}' for v in values)} s")
        print(f"{bench}: history / one month = {medians['h'] / medians['0']:.2f} (upper medians)")
    if not args.keep:
        for bench in benches:
            for variant in ("0", "h"):
                _admin(f'DROP DATABASE IF EXISTS "{prefix}_{bench}_tpl_{variant}" WITH (FORCE)')


if __name__ == "__main__":
    main()
