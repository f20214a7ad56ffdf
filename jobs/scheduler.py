"""The scheduler process (`fundledger scheduler`): APScheduler 3 cron jobs in Asia/Shanghai,
each run through jobs.runner (cross-process lock + job_run), catch-up at start-up."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from app.clock import SHANGHAI
from app.clock import business_date as date_of
from app.db import transaction
from app.scheduling import service as scheduling
from app.workdays import service as workdays
from jobs.context import JobContext
from jobs.registry import CATCH_UP_DAYS_MAX, JOBS, JobSpec, due_today
from jobs.runner import RunOutcome, run_job

log = logging.getLogger("fundledger.scheduler")

# A run delayed by a busy process or a restart still happens within the hour; later ones
# are left to the catch-up (the 1-second default would silently skip them).
MISFIRE_GRACE_S = 3600


def catch_up(ctx: JobContext) -> list[RunOutcome]:
    """Run what is due and missed: every missed business date of catch-up jobs (at most
    31 days back; older ones need `fundledger jobs run`), today's run of the others."""
    outcomes = []
    now = ctx.clock.now()
    today = date_of(now)
    with transaction(ctx.session_factory) as session:
        calendar = workdays.load(session)
        last = {name: scheduling.last_succeeded(session, name) for name in JOBS}
    for spec in sorted(JOBS.values(), key=lambda s: (s.at, s.name)):
        due = due_today(spec, now, calendar)
        latest = due if due is not None else spec.business_date(today - timedelta(days=1))
        if spec.catch_up:
            first = latest - timedelta(days=CATCH_UP_DAYS_MAX - 1)
            previous = last[spec.name]
            if previous is not None:
                first = max(first, previous + timedelta(days=1))
            day = first
            while day <= latest:
                outcomes.append(run_job(ctx, spec.name, day))
                day += timedelta(days=1)
        elif due is not None:
            outcomes.append(run_job(ctx, spec.name, due))
    return outcomes


def _scheduled(ctx: JobContext, spec: JobSpec) -> None:
    now = ctx.clock.now()
    with transaction(ctx.session_factory) as session:
        calendar = workdays.load(session)
    if not spec.runs_on(date_of(now), calendar):
        return
    outcome = run_job(ctx, spec.name, spec.business_date(date_of(now)))
    log.info("job %s %s: %s", spec.name, outcome.business_date, outcome.status)


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
    log.info("scheduler started with %d jobs", len(JOBS))
    scheduler.start()
