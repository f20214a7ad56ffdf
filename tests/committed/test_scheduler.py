"""The scheduler: catch-up of missed business dates, and two real scheduler processes started
together produce exactly one batch per fund ledger and date."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

from app.clock import SHANGHAI, SimulatedClock, business_date
from app.config import Settings
from app.daily.models import DailyBatch
from app.db import make_engine, make_sessionmaker, transaction
from app.jobcontext import JobContext
from app.scheduling import service as scheduling
from app.scheduling.models import JobRun
from jobs.registry import JOBS
from jobs.scheduler import catch_up
from tests.support import builders
from tests.support.daily import at, settle
from tests.support.databases import fresh_database


def _world(url: str, start: date) -> None:
    with transaction(make_sessionmaker(make_engine(url))) as session:
        builders.fund(session, effective_from=start)
        builders.institution(session, "H001", start=start)
        for offset in range(0, 5):
            day = start + timedelta(days=offset)
            settle(session, "H001", f"S{offset}", 100_000 + offset, day, uploaded=at(day, 11))


def test_catch_up_runs_missed_dates_in_order_once() -> None:
    with fresh_database() as url:
        _world(url, date(2026, 3, 2))
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        clock = SimulatedClock(at(date(2026, 3, 9), 3).astimezone(UTC))  # Monday 03:00
        ctx = JobContext(
            session_factory=factory,
            engine=engine,
            clock=clock,
            settings=Settings(environment="test", database_url=url),
        )
        outcomes = catch_up(ctx)
        batches = [o.business_date for o in outcomes if o.job == "daily_batch"]
        assert batches == [date(2026, 3, 9) - timedelta(days=n) for n in range(31, 0, -1)]
        assert all(o.status == "SUCCEEDED" for o in outcomes), [
            o for o in outcomes if o.status != "SUCCEEDED"
        ]
        with transaction(factory) as session:
            lines = session.execute(
                text(
                    "SELECT b.business_date, l.settlement_count FROM daily_line l JOIN daily_batch b ON b.id = l.batch_id ORDER BY 1"
                )
            ).all()
        assert [(str(d), n) for d, n in lines] == [(f"2026-03-0{d}", 1) for d in range(2, 7)]
        again = catch_up(ctx)
        assert [o for o in again if o.job == "daily_batch"] == []
        clock.set(at(date(2026, 3, 12), 3).astimezone(UTC))
        later = [o.business_date for o in catch_up(ctx) if o.job == "daily_batch"]
        assert later == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]
        engine.dispose()


def _latest_batch_date(moment: datetime) -> date:
    """The latest business date whose daily batch is due at `moment` (real time: the batch of
    D runs on D + 1 at its Shanghai time, so between midnight and then it is D - 1's)."""
    spec = JOBS["daily_batch"]
    local = moment.astimezone(SHANGHAI)
    ran_today = local.time() >= spec.at
    return spec.business_date(local.date() if ran_today else local.date() - timedelta(days=1))


def test_two_scheduler_processes_make_one_batch_per_date() -> None:
    today = business_date(datetime.now(UTC))
    with fresh_database() as url:
        _world(url, today - timedelta(days=6))
        env = dict(
            os.environ, FUNDLEDGER_DATABASE_URL=url, FUNDLEDGER_BANK_URL="http://127.0.0.1:9"
        )
        command = [sys.executable, "-m", "app", "scheduler", "--catch-up-only"]
        started = datetime.now(UTC)
        processes = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300) for p in processes]
        finished = datetime.now(UTC)
        assert all(p.returncode == 0 for p in processes), outputs
        engine = make_engine(url)
        with transaction(make_sessionmaker(engine)) as session:
            per_date = session.execute(
                select(DailyBatch.fund_ledger_id, DailyBatch.business_date, func.count()).group_by(
                    DailyBatch.fund_ledger_id, DailyBatch.business_date
                )
            ).all()
            runs = session.execute(
                select(JobRun.business_date, func.count())
                .where(JobRun.job_name == "daily_batch")
                .group_by(JobRun.business_date)
            ).all()
        # every business date from the fund's switch-on to the latest due, once (run between
        # midnight and 00:30 in Shanghai, that is the day before yesterday)
        start = today - timedelta(days=6)
        expected = [
            [start + timedelta(days=n) for n in range((latest - start).days + 1)]
            for latest in {_latest_batch_date(started), _latest_batch_date(finished)}
        ]  # one list, or two if the processes ran across 00:30
        assert sorted(d for _, d, _ in per_date) in expected
        assert {count for *_, count in per_date} == {1}
        assert {count for _, count in runs} == {1}
        engine.dispose()


def test_a_taken_over_run_finishing_late_is_recorded_not_raised() -> None:
    """A process whose run was taken over (its lock connection dropped) finishes after the one
    that took over: its finish is recorded as the last word, never an IllegalTransition."""
    now = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    with fresh_database() as url:
        factory = make_sessionmaker(make_engine(url))
        first = scheduling.claim(factory, "daily_batch", date(2026, 3, 6), runner="a", now=now)
        taken = scheduling.claim(factory, "daily_batch", date(2026, 3, 6), runner="b", now=now)
        assert first is not None and taken == first
        scheduling.finish(factory, first, ok=True, detail={"by": "b"}, now=now)
        scheduling.finish(factory, first, ok=False, detail={"by": "a"}, now=now)
        with transaction(factory) as session:
            run = session.get(JobRun, first)
            assert run is not None
            assert (run.status, run.attempts, run.detail) == ("FAILED", 2, {"by": "a"})
