"""The scheduler process (`fundledger scheduler`): APScheduler 3 cron jobs in Asia/Shanghai,
each run through jobs.runner (cross-process lock + job_run), catch-up at start-up."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.clock import SHANGHAI, shanghai
from app.clock import business_date as date_of
from app.db import transaction
from app.jobcontext import JobContext
from app.scheduling import service as scheduling
from app.workdays import service as workdays
from jobs import ledger_snapshots
from jobs.registry import CATCH_UP_DAYS_MAX, JOBS, REQUERY_EVERY_MINUTES, JobSpec, due_today
from jobs.runner import RunOutcome, run_job, run_locked

log = logging.getLogger("fundledger.scheduler")

# A run delayed by a busy process or a restart still happens within the hour; later ones
# are left to the catch-up (the 1-second default would silently skip them).
MISFIRE_GRACE_S = 3600
# Balance snapshots: a sweep every few minutes (not date-keyed, not recorded in job_run; the
# metric fundledger_ledger_entries_since_snapshot shows when it stops keeping up).
SNAPSHOTS_EVERY_MINUTES = 5


def catch_up(ctx: JobContext) -> list[RunOutcome]:
    """Run what is due and missed: every missed business date of catch-up jobs (at most
    31 days back; older ones need `fundledger jobs run`), today's run of the others. Each
    job's dates run in order under its lock, held across them."""
    outcomes = []
    now = ctx.clock.now()
    today = date_of(now)
    with transaction(ctx.session_factory) as session:
        calendar = workdays.load(session)
    for spec in sorted(JOBS.values(), key=lambda s: (s.at, s.name)):
        due = due_today(spec, now, calendar)
        with scheduling.job_lock(ctx.engine, spec.name) as acquired:
            if not acquired:
                continue  # another process is on it
            with transaction(ctx.session_factory) as session:
                previous = scheduling.last_succeeded(session, spec.name)
            if spec.catch_up:
                latest = due if due is not None else spec.business_date(today - timedelta(days=1))
                first = latest - timedelta(days=CATCH_UP_DAYS_MAX - 1)
                if previous is not None:
                    first = max(first, previous + timedelta(days=1))
                day = first
                while day <= latest:
                    outcomes.append(run_locked(ctx, spec.name, day))
                    day += timedelta(days=1)
            elif due is not None:
                outcomes.append(run_locked(ctx, spec.name, due))
    return outcomes


def fire_day(spec: JobSpec, now: datetime) -> date:
    """The day of the run the scheduler fired, not of the moment it runs: a run delayed past
    midnight (within the misfire grace) still belongs to the day it was due."""
    local = shanghai(now)
    return local.date() if local.time() >= spec.at else local.date() - timedelta(days=1)


def _scheduled(ctx: JobContext, spec: JobSpec) -> None:
    day = fire_day(spec, ctx.clock.now())
    with transaction(ctx.session_factory) as session:
        calendar = workdays.load(session)
    if not spec.runs_on(day, calendar):
        return
    outcome = run_job(ctx, spec.name, spec.business_date(day))
    log.info("job %s %s: %s", spec.name, outcome.business_date, outcome.status)


def _requery(ctx: JobContext) -> None:
    """Not date-keyed: recorded as a run without business date, under the job lock."""
    from app.scheduling import service as runs
    from jobs import bank_requery

    with runs.job_lock(ctx.engine, "bank_requery") as acquired:
        if not acquired:
            return
        run_id = runs.claim(
            ctx.session_factory, "bank_requery", None, runner=ctx.runner, now=ctx.clock.now()
        )
        if run_id is None:
            return
        try:
            detail = bank_requery.run(ctx, date_of(ctx.clock.now()))
        except Exception as error:
            log.exception("bank re-query failed")
            runs.finish(
                ctx.session_factory,
                run_id,
                ok=False,
                detail={"error": repr(error)[:500]},
                now=ctx.clock.now(),
            )
            return
        runs.finish(ctx.session_factory, run_id, ok=True, detail=detail, now=ctx.clock.now())


def _ledger_snapshots(ctx: JobContext) -> None:
    with scheduling.job_lock(ctx.engine, "ledger_snapshots") as acquired:
        if not acquired:
            return
        try:
            detail = ledger_snapshots.run(ctx)
        except Exception:
            log.exception("ledger snapshots failed")
            return
        if detail["snapshots"]:
            log.info("ledger snapshots: %s", detail["snapshots"])


def run_forever(ctx: JobContext) -> None:
    for outcome in catch_up(ctx):
        log.info("catch-up %s %s: %s", outcome.job, outcome.business_date, outcome.status)
    scheduler = BlockingScheduler(
        timezone=SHANGHAI,
        job_defaults={"misfire_grace_time": MISFIRE_GRACE_S, "coalesce": True, "max_instances": 1},
    )
    for spec in JOBS.values():
        scheduler.add_job(
            _scheduled,
            CronTrigger(hour=spec.at.hour, minute=spec.at.minute, timezone=SHANGHAI),
            args=(ctx, spec),
            id=spec.name,
            name=spec.description,
        )
    scheduler.add_job(
        _requery,
        IntervalTrigger(minutes=REQUERY_EVERY_MINUTES, timezone=SHANGHAI),
        args=(ctx,),
        id="bank_requery",
        name="ask the bank about instructions without a result 30 minutes after sending",
    )
    scheduler.add_job(
        _ledger_snapshots,
        IntervalTrigger(minutes=SNAPSHOTS_EVERY_MINUTES, timezone=SHANGHAI),
        args=(ctx,),
        id="ledger_snapshots",
        name="balance snapshots of the fund ledgers (bounded as-of balances)",
    )
    log.info("scheduler started with %d jobs, the bank re-query and snapshots", len(JOBS))
    scheduler.start()
