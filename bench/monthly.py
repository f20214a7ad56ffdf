"""Monthly statement benchmark (issue 9), PostgreSQL: statements of one period for M
institutions × 2 insurance types (310, 390) over a month with N settlements.

Seeding (not timed, in a child process so that the measuring process's memory is its own):
region 640100, fund ledgers 310 and 390, M institutions enrolled in both, N settlements of
period 2026-10 spread over the month's 31 days, both insurance types and every institution
(COPY); a few revocations before batching (in no batch) and after it (negative in the
period); the daily batches through `app.daily.service.generate` (one per calendar day and
fund ledger, as the job does, or `--batches single`: one per fund ledger for 2026-10-31);
80 % of the daily lines paid (instruction SUCCESS; 1 % of those RETURNED with their bank
return), 20 % never sent (so the computation withdraws them); declarations of 2026-10 for
every institution × insurance type, period states declared through 2026-10; FINAL (and a few
still appealed) audit items, procurement advances.

Timed: `statements.compute_due` for both fund ledgers on 2026-11-17 (the computation date of
2026-10: 15 Nov 2026 is a Sunday, so the deadline is Mon 16 Nov), one transaction each. A
first pass under tracemalloc (Python peak) is rolled back and the tables vacuumed; the second
pass, without tracemalloc, is the one timed and kept, then checked.

Run: .venv/bin/python -m bench.monthly [--settlements 3000000] [--institutions 10000]
     [--batches daily|single] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import pstats
import resource
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import Engine, event, text

from app.clock import SHANGHAI
from app.daily import service as daily
from app.db import make_engine, make_sessionmaker, transaction
from app.institutions import service as institutions
from app.monthly import computation
from app.monthly import rules as monthly_rules
from app.settlements.uploads import insert_settlements
from app.workdays.rules import WorkCalendar
from bench.common import Timer, fresh_postgres, seed_region

REGION = "640100"
INSUTYPES = ("310", "390")
PERIOD = "2026-10"
DAYS = [date(2026, 10, day) for day in range(1, 32)]
TODAY = date(2026, 11, 17)
NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # 2026-11-17 01:00 in Shanghai
SEED_NOW = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 100_000
DEPOSIT_RATE_BP = 500  # PolicyIn's default
STAGES = (
    "_pending",
    "_waiting",
    "_withdraw_unsent",
    "reserve_ids",
    "_take",
    "_sums",
    "open_receivables",
    "insert_rows",
)


def _shanghai(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock_time(hour), tzinfo=SHANGHAI)


# --- seeding (child process) -------------------------------------------------------------------


def _seed_reference(factory: Any, count: int) -> None:
    with transaction(factory) as session:
        seed_region(session, REGION, INSUTYPES, count, SEED_NOW)
        session.execute(
            text(
                "INSERT INTO enrollment (fixmedins_code, insutype, start_date)"
                " SELECT 'H' || lpad(g::text, 5, '0'), t.insutype, DATE '2026-01-01'"
                " FROM generate_series(0, :n - 1) g CROSS JOIN (VALUES ('310'), ('390')) t(insutype)"
            ),
            {"n": count},
        )


def _seed_settlements(factory: Any, settlements: int, count: int) -> None:
    """Settlement i: institution i mod M, insurance type and day cycling above it, so that
    every institution has settlements of both types on every day of the month."""
    starts = [_shanghai(day, 8) for day in DAYS]
    for first in range(0, settlements, CHUNK):
        rows = []
        for i in range(first, min(settlements, first + CHUNK)):
            day_index = (i // (2 * count)) % len(DAYS)
            fund_fen = 100_000 + (i * 7919) % 900_000
            setl_time = starts[day_index] + timedelta(seconds=i % 36000)
            rows.append(
                {
                    "id": i + 1,
                    "fixmedins_code": f"H{i % count:05d}",
                    "setl_id": f"S{i:09d}",
                    "mdtrt_id": None,
                    "psn_no": f"P{i}",
                    "insutype": INSUTYPES[(i // count) % 2],
                    "med_type": "21",
                    "insuplc_admdvs": "640104",
                    "setl_time": setl_time,
                    "setl_date": DAYS[day_index],
                    "medfee_sumamt_fen": fund_fen + 10_000,
                    "hifp_pay_fen": fund_fen,
                    "hifob_pay_fen": 0,
                    "fund_amount_fen": fund_fen,
                    "fund_pay_sumamt_fen": None,
                    "psn_cash_pay_fen": None,
                    "acct_pay_fen": None,
                    "clr_type": None,
                    "clr_way": None,
                    "region_code": REGION,
                    "period": PERIOD,
                    "batch_date": DAYS[day_index],
                    "ratio_bp": 6000,
                    "daily_amount_fen": (fund_fen * 6000 + 5000) // 10000,
                    "content_hash": "0" * 64,
                    "uploaded_at": setl_time,
                    "uploaded_by": "bench",
                }
            )
        with transaction(factory) as session:
            insert_settlements(session, rows)


def _seed_batches(factory: Any, mode: str) -> None:
    days = DAYS if mode == "daily" else DAYS[-1:]
    for day in days:
        for insutype in INSUTYPES:
            with transaction(factory) as session:
                fund = institutions.get_fund_ledger(session, REGION, insutype)
                batch = daily.generate(
                    session,
                    fund,
                    day,
                    now=_shanghai(day + timedelta(days=1), 1),
                    calendar=WorkCalendar(),
                )
                assert batch is not None and batch.line_count > 0


def _spread(column: str) -> str:
    """A non-negative hash of an id (SQL): selections by it are spread over institutions,
    days and insurance types, unlike `id % k`, which lines up with the seeding's cycles."""
    return f"(hashint8({column})::bigint + 2147483648)"


# revoked before batching: in no batch, counts in no period
REVOKED_BEFORE_BATCHING = (
    "INSERT INTO revocation (settlement_id, fixmedins_code, insutype, reason, revoked_at,"
    " revoked_date, period, revoked_by, batched)"
    " SELECT id, fixmedins_code, insutype, 'bench', setl_time + interval '1 hour', setl_date,"
    f" period, 'bench', false FROM settlement WHERE {_spread('id')} % :every = 7"
)


RETURNED = f"{_spread('l.id')} / 5 % 100 = 1"
APPEALED = f"{_spread('s.id')} / :every % 6 = 0"


def _seed_after_batches(engine: Engine, settlements: int, count: int) -> None:
    revoke_every = max(settlements // 1500, 10)
    audits = max(settlements // 600, 1)
    audit_every = max(settlements // audits, 1)
    advances = max(count // 5, 1)
    with engine.begin() as connection:
        run = connection.execute
        run(text("UPDATE daily_batch SET status = 'SUBMITTED', submitted_at = pushed_at"))
        # 80 % of the lines sent and paid (1 % of those returned), 20 % never sent.
        run(
            text(
                "INSERT INTO payment_instruction (instruction_id, kind, region_code, insutype,"
                " fixmedins_code, amount_fen, payer_account, payer_name, payee_account, payee_name,"
                " payee_bank_code, purpose, requested_date, status, source_kind, source_id,"
                " created_at, sent_at, result_at, attempts, returned_at)"
                " SELECT 'D' || to_char(b.business_date, 'YYMMDD') || '-' || substr(b.region_code, 1, 4)"
                "   || b.insutype || '-' || l.fixmedins_code, 'daily', b.region_code, b.insutype,"
                "   l.fixmedins_code, l.amount_fen, f.expenditure_account, f.expenditure_account_name,"
                "   i.bank_account, i.bank_account_name, i.bank_code,"
                "   '医保基金日拨付 ' || b.business_date, b.pay_date,"
                f"   CASE WHEN {RETURNED} THEN 'RETURNED' ELSE 'SUCCESS' END, 'daily_line', l.id,"
                "   b.generated_at, b.generated_at, b.generated_at + interval '2 hours', 1,"
                f"   CASE WHEN {RETURNED} THEN b.generated_at + interval '1 day' END"
                " FROM daily_line l JOIN daily_batch b ON b.id = l.batch_id"
                " JOIN fund_ledger f ON f.id = b.fund_ledger_id"
                " JOIN institution i ON i.code = l.fixmedins_code"
                f" WHERE {_spread('l.id')} % 5 <> 0"
            )
        )
        run(
            text(
                "UPDATE daily_line l SET instruction_id = p.instruction_id FROM payment_instruction p"
                " WHERE p.source_kind = 'daily_line' AND p.source_id = l.id"
            )
        )
        run(
            text(
                "INSERT INTO bank_return (instruction_id, kind, region_code, insutype, fixmedins_code,"
                " period, amount_fen, returned_at)"
                " SELECT instruction_id, 'daily', region_code, insutype, fixmedins_code, :period,"
                " amount_fen, returned_at FROM payment_instruction WHERE status = 'RETURNED'"
            ),
            {"period": PERIOD},
        )
        # revoked after batching (on 1 Nov, before the declaration): negative in 2026-10
        run(
            text(
                "INSERT INTO revocation (settlement_id, fixmedins_code, insutype, reason, revoked_at,"
                " revoked_date, period, revoked_by, batched)"
                " SELECT id, fixmedins_code, insutype, 'bench', :at, DATE '2026-11-01', period,"
                f" 'bench', true FROM settlement WHERE {_spread('id')} % :every = 11"
            ),
            {"every": revoke_every, "at": _shanghai(date(2026, 11, 1), 9)},
        )
        run(
            text(
                "INSERT INTO declaration (fixmedins_code, insutype, period, declared_at, declared_by, late)"
                " SELECT i.code, t.insutype, :period, :at, 'bench', false FROM institution i"
                " CROSS JOIN (VALUES ('310'), ('390')) t(insutype)"
            ),
            {"period": PERIOD, "at": _shanghai(date(2026, 11, 10), 10)},
        )
        run(
            text(
                "INSERT INTO period_state (fixmedins_code, insutype, declared_through)"
                " SELECT i.code, t.insutype, :period FROM institution i"
                " CROSS JOIN (VALUES ('310'), ('390')) t(insutype)"
                " ON CONFLICT (fixmedins_code, insutype) DO UPDATE SET declared_through = :period"
            ),
            {"period": PERIOD},
        )
        # audit results on unrevoked settlements: FINAL, and every sixth still appealed
        run(
            text(
                "INSERT INTO audit_item (settlement_id, fixmedins_code, insutype, period, rule_code,"
                " reason, initial_amount_fen, result_date, appeal_deadline, final_amount_fen, final_at,"
                " status, created_at, created_by, appealed_at, appeal_reason)"
                " SELECT s.id, s.fixmedins_code, s.insutype, s.period, 'R001', 'bench',"
                "   s.fund_amount_fen / 10, DATE '2026-11-02', DATE '2026-11-09',"
                f"   CASE WHEN {APPEALED} THEN NULL ELSE s.fund_amount_fen / 20 END,"
                f"   CASE WHEN {APPEALED} THEN NULL ELSE :final_at END,"
                f"   CASE WHEN {APPEALED} THEN 'APPEALED' ELSE 'FINAL' END, :at, 'bench',"
                f"   CASE WHEN {APPEALED} THEN :at END, CASE WHEN {APPEALED} THEN 'bench' END"
                f" FROM settlement s WHERE {_spread('s.id')} % :every = 3"
                " AND NOT EXISTS (SELECT 1 FROM revocation r WHERE r.settlement_id = s.id)"
            ),
            {
                "every": audit_every,
                "at": _shanghai(date(2026, 11, 2), 10),
                "final_at": _shanghai(date(2026, 11, 10), 0),
            },
        )
        run(
            text(
                "INSERT INTO procurement_advance (region_code, insutype, fixmedins_code, period,"
                " amount_fen, reference, registered_at, registered_by)"
                " SELECT :region, CASE WHEN g % 2 = 0 THEN '310' ELSE '390' END,"
                "   'H' || lpad(((g * 7) % :n)::text, 5, '0'),"
                "   CASE WHEN g % 4 = 3 THEN '2026-09' ELSE :period END,"
                "   50000 + (g * 131) % 200000, 'ADV' || g, :at, 'bench'"
                " FROM generate_series(0, :k - 1) g"
            ),
            {
                "region": REGION,
                "n": count,
                "period": PERIOD,
                "k": advances,
                "at": _shanghai(date(2026, 10, 20), 10),
            },
        )


def _seed(url: str, settlements: int, count: int, batches: str) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    timer = Timer()
    _seed_reference(factory, count)
    _seed_settlements(factory, settlements, count)
    with engine.begin() as connection:
        connection.execute(text("SELECT setval('settlement_id_seq', :n)"), {"n": settlements})
        connection.execute(text(REVOKED_BEFORE_BATCHING), {"every": max(settlements // 1500, 10)})
        connection.execute(text("ANALYZE"))
    print(f"seeded settlements in {timer.seconds:.0f} s", file=sys.stderr, flush=True)
    _seed_batches(factory, batches)
    print(f"generated batches at {timer.seconds:.0f} s", file=sys.stderr, flush=True)
    _seed_after_batches(engine, settlements, count)
    engine.dispose()
    with make_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"seeding done in {timer.seconds:.0f} s", file=sys.stderr, flush=True)


# --- measuring ---------------------------------------------------------------------------------


class Stages:
    """Wall time and SQL time (count) per stage of the computation: the stage functions of
    app.monthly.statements are wrapped (module globals), SQL is timed by cursor events, also
    per statement text (with the parameters of its slowest execution, to EXPLAIN it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.wall: dict[str, float] = defaultdict(float)
        self.sql: dict[str, float] = defaultdict(float)
        self.queries: dict[str, int] = defaultdict(int)
        self.shapes: dict[str, dict[str, Any]] = {}
        self.current = "other"
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        self._originals = {name: getattr(computation, name) for name in STAGES}
        for name, original in self._originals.items():
            setattr(computation, name, self._wrap(name, original))

    def _before(self, *args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        elapsed = time.perf_counter() - self._started.pop()
        self.sql[self.current] += elapsed
        self.queries[self.current] += 1
        shape = self.shapes.setdefault(
            statement,
            {"stage": self.current, "seconds": 0.0, "count": 0, "slowest": -1.0, "params": None},
        )
        shape["seconds"] += elapsed
        shape["count"] += 1
        if elapsed > shape["slowest"]:
            shape["slowest"] = elapsed
            shape["params"] = parameters

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            outer = self.current
            self.current = name
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[name] += time.perf_counter() - started
                self.current = outer

        return wrapped

    def reset(self) -> None:
        self.wall.clear()
        self.sql.clear()
        self.queries.clear()
        self.shapes.clear()

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        for name, original in self._originals.items():
            setattr(computation, name, original)

    def top(self, n: int) -> list[tuple[str, dict[str, Any]]]:
        return sorted(self.shapes.items(), key=lambda item: -item[1]["seconds"])[:n]


def _rss_now_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _compute_all(factory: Any, *, keep: bool) -> dict[str, list[int]]:
    created: dict[str, list[int]] = {}
    for insutype in INSUTYPES:
        with factory() as session:
            session.begin()
            fund = institutions.get_fund_ledger(session, REGION, insutype)
            created[insutype] = computation.compute_due(
                session, fund, today=TODAY, now=NOW, calendar=WorkCalendar()
            )
            if keep:
                session.commit()
            else:
                session.rollback()
    return created


@contextmanager
def _maybe_profile(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(20)


def _check(engine: Engine, count: int, created: dict[str, list[int]]) -> dict[str, int]:
    """20,000 statements (2 × M), every invariant, and spot checks against direct SQL."""
    with engine.connect() as connection:
        run = connection.execute
        assert sum(len(ids) for ids in created.values()) == 2 * count
        assert run(text("SELECT count(*) FROM monthly_statement")).scalar_one() == 2 * count
        rows = run(
            text(
                "SELECT id, insutype, fixmedins_code, period, status, version, deposit_rate_bp,"
                " fund_pay_fen, deposit_fen, ratio_amount_fen, audit_fen, daily_paid_fen,"
                " procurement_fen, returned_fen, offset_fen, net_fen FROM monthly_statement"
            )
        ).all()
        by_key = {}
        for row in rows:
            assert row.period == PERIOD and row.status == "COMPUTED" and row.version == 1
            assert row.deposit_rate_bp == DEPOSIT_RATE_BP
            assert row.deposit_fen == (row.fund_pay_fen * DEPOSIT_RATE_BP + 5000) // 10000
            assert row.ratio_amount_fen == row.fund_pay_fen - row.deposit_fen
            assert row.offset_fen == 0  # no receivables in this month
            assert row.returned_fen == 0  # the returns are this period's: absorbed
            assert row.net_fen == (
                row.ratio_amount_fen
                - row.audit_fen
                - row.daily_paid_fen
                - row.procurement_fen
                + row.returned_fen
                - row.offset_fen
            )
            assert row.fund_pay_fen > 0
            by_key[(row.fixmedins_code, row.insutype)] = row
        assert len(by_key) == 2 * count
        for insutype in INSUTYPES:
            assert sorted(created[insutype]) == sorted(
                row.id for row in rows if row.insutype == insutype
            )
        # everything the statements take is taken, every unsent line withdrawn
        assert (
            run(
                text(
                    "SELECT count(*) FROM audit_item WHERE status = 'FINAL' AND taken_statement_id IS NULL"
                )
            ).scalar_one()
            == 0
        )
        assert (
            run(
                text(
                    "SELECT count(*) FROM audit_item WHERE status <> 'FINAL' AND taken_statement_id IS NOT NULL"
                )
            ).scalar_one()
            == 0
        )
        assert (
            run(
                text("SELECT count(*) FROM procurement_advance WHERE taken_statement_id IS NULL")
            ).scalar_one()
            == 0
        )
        assert (
            run(
                text(
                    "SELECT count(*) FROM daily_line WHERE instruction_id IS NULL AND withdrawn_at IS NULL"
                )
            ).scalar_one()
            == 0
        )
        assert (
            run(
                text(
                    "SELECT count(*) FROM bank_return WHERE taken_by NOT LIKE 'absorbed:statement:%'"
                )
            ).scalar_one()
            == 0
        )
        withdrawn = run(
            text("SELECT count(*) FROM daily_line WHERE withdrawn_at IS NOT NULL")
        ).scalar_one()
        # totals over all statements against direct sums
        totals = run(
            text(
                "SELECT sum(fund_pay_fen), sum(audit_fen), sum(daily_paid_fen), sum(procurement_fen)"
                " FROM monthly_statement"
            )
        ).one()
        direct = run(
            text(
                "SELECT (SELECT sum(s.fund_amount_fen) FROM settlement s WHERE s.period = :period"
                "   AND NOT EXISTS (SELECT 1 FROM revocation r WHERE r.settlement_id = s.id)),"
                " (SELECT sum(final_amount_fen) FROM audit_item WHERE status = 'FINAL'),"
                " (SELECT sum(l.amount_fen) FROM daily_line l JOIN payment_instruction p"
                "   ON p.instruction_id = l.instruction_id WHERE p.status = 'SUCCESS'),"
                " (SELECT sum(amount_fen) FROM procurement_advance)"
            ),
            {"period": PERIOD},
        ).one()
        assert tuple(totals) == tuple(direct), (tuple(totals), tuple(direct))
        # spot checks, per statement, each component by its own query
        spots = [
            (f"H{n:05d}", insutype) for n in (0, 1, count // 2, count - 1) for insutype in INSUTYPES
        ]
        for code, insutype in spots:
            row = by_key[(code, insutype)]
            params = {"code": code, "insutype": insutype, "period": PERIOD}
            fund_pay = run(
                text(
                    "SELECT sum(s.fund_amount_fen) FROM settlement s WHERE s.fixmedins_code = :code"
                    " AND s.insutype = :insutype AND s.period = :period"
                    " AND NOT EXISTS (SELECT 1 FROM revocation r WHERE r.settlement_id = s.id)"
                ),
                params,
            ).scalar_one()
            daily_paid = run(
                text(
                    "SELECT coalesce(sum(l.amount_fen), 0) FROM daily_line l"
                    " JOIN daily_batch b ON b.id = l.batch_id"
                    " JOIN payment_instruction p ON p.instruction_id = l.instruction_id"
                    " WHERE l.fixmedins_code = :code AND b.insutype = :insutype AND p.status = 'SUCCESS'"
                ),
                params,
            ).scalar_one()
            audit = run(
                text(
                    "SELECT coalesce(sum(final_amount_fen), 0) FROM audit_item WHERE fixmedins_code = :code"
                    " AND insutype = :insutype AND status = 'FINAL' AND period <= :period"
                ),
                params,
            ).scalar_one()
            procurement = run(
                text(
                    "SELECT coalesce(sum(amount_fen), 0) FROM procurement_advance"
                    " WHERE fixmedins_code = :code AND insutype = :insutype AND period <= :period"
                ),
                params,
            ).scalar_one()
            assert (row.fund_pay_fen, row.daily_paid_fen, row.audit_fen, row.procurement_fen) == (
                fund_pay,
                daily_paid,
                audit,
                procurement,
            ), (code, insutype)
        return {"withdrawn": int(withdrawn)}


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in (
                "settlement",
                "revocation",
                "daily_batch",
                "daily_line",
                "payment_instruction",
                "audit_item",
                "procurement_advance",
                "declaration",
                "ledger_posting",
            )
        }


def run(
    settlements: int, count: int, batches: str, profile: bool, keep: bool = False
) -> dict[str, Any]:
    due = monthly_rules.computation_date(PERIOD, 15, WorkCalendar())
    assert due <= TODAY, due
    with fresh_postgres(keep=keep) as url:
        if keep:
            print(f"database kept: {url}", file=sys.stderr, flush=True)
        seeding = Timer()
        child = multiprocessing.get_context("spawn").Process(
            target=_seed, args=(url, settlements, count, batches)
        )
        child.start()
        child.join()
        assert child.exitcode == 0, "seeding failed"
        seeded = seeding.seconds
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        counts = _counts(engine)
        stages = Stages(engine)
        # Pass 1, rolled back: Python's peak allocation under tracemalloc (which slows
        # allocation-heavy code, hence not the pass that is timed).
        tracemalloc.start()
        timer = Timer()
        _compute_all(factory, keep=False)
        traced_seconds = timer.seconds
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with make_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        stages.reset()
        # Pass 2, kept: the timed one.
        rss_before = _rss_now_mb()
        peak_before = _peak_rss_mb()
        timer = Timer()
        with _maybe_profile(profile):
            created = _compute_all(factory, keep=True)
        seconds = timer.seconds
        stages.stop()
        rss_after = _rss_now_mb()
        peak_after = _peak_rss_mb()
        checked = _check(engine, count, created)
        engine.dispose()
    return {
        "seeded": seeded,
        "counts": counts,
        "seconds": seconds,
        "traced_seconds": traced_seconds,
        "traced_peak_mb": traced_peak / 2**20,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "peak_before": peak_before,
        "peak_after": peak_after,
        "stages": stages,
        **checked,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settlements", type=int, default=3_000_000)
    parser.add_argument("--institutions", type=int, default=10_000)
    parser.add_argument("--batches", choices=("daily", "single"), default="daily")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed pass")
    parser.add_argument("--keep", action="store_true", help="keep the database (to inspect it)")
    parser.add_argument(
        "--dump-sql", help="write the slowest statements (text, parameters) to this JSON file"
    )
    args = parser.parse_args()
    result = run(args.settlements, args.institutions, args.batches, args.profile, args.keep)
    counts = result["counts"]
    statements_made = 2 * args.institutions
    print(
        f"seeding {result['seeded']:.0f} s; rows: "
        + ", ".join(f"{table} {n:,}" for table, n in counts.items())
        + f"; lines withdrawn {result['withdrawn']:,}"
    )
    print()
    print("| stage | wall | of it SQL | queries |")
    print("|---|---|---|---|")
    stages: Stages = result["stages"]
    accounted = 0.0
    for name in STAGES:
        wall = stages.wall.get(name, 0.0)
        accounted += wall
        print(
            f"| {name} | {wall:.2f} s | {stages.sql.get(name, 0.0):.2f} s | {stages.queries.get(name, 0):,} |"
        )
    print(
        f"| rest | {result['seconds'] - accounted:.2f} s | {stages.sql.get('other', 0.0):.2f} s"
        f" | {stages.queries.get('other', 0):,} |"
    )
    print()
    print("| stage | statement | executions | SQL time |")
    print("|---|---|---|---|")
    for statement, shape in stages.top(12):
        flat = " ".join(statement.split())
        short = flat if len(flat) <= 110 else flat[:107] + "..."
        print(f"| {shape['stage']} | `{short}` | {shape['count']:,} | {shape['seconds']:.2f} s |")
    if args.dump_sql:
        with open(args.dump_sql, "w") as out:
            json.dump(
                [
                    {**shape, "statement": statement, "params": shape["params"]}
                    for statement, shape in stages.top(12)
                ],
                out,
                default=str,
                ensure_ascii=False,
                indent=1,
            )
    print()
    print(
        "| settlements | institutions | batches | daily lines | statements | time | statements/s"
        " | pass under tracemalloc | Python peak | process RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.settlements:,} | {args.institutions:,} | {counts['daily_batch']:,} | "
        f"{counts['daily_line']:,} | {statements_made:,} | {result['seconds']:.1f} s | "
        f"{statements_made / result['seconds']:,.0f} | {result['traced_seconds']:.1f} s | "
        f"{result['traced_peak_mb']:.0f} MB | {result['rss_before']:.0f} → {result['rss_after']:.0f} MB"
        f" (peak {result['peak_before']:.0f} → {result['peak_after']:.0f} MB) |"
    )


if __name__ == "__main__":
    main()
