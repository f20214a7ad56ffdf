"""A person runs a job for a business date (the API's POST /jobs/{name}/run and the console's
jobs page): the same refusals for both, then the run under the job's lock (jobs/runner.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.clock import Clock, business_date
from app.errors import Invalid, NotFound
from app.jobcontext import JobContext
from jobs.registry import JOBS
from jobs.runner import RunOutcome, run_job


def latest_date(name: str, clock: Clock) -> date:
    """The latest business date the job may run for now (the date it runs for today)."""
    if name not in JOBS:
        raise NotFound(f"no job {name!r}")
    return JOBS[name].business_date(business_date(clock.now()))


def check_date(name: str, day: date, clock: Clock) -> None:
    """Refuse a date the job cannot run for: later than today's, or earlier for a job that
    only runs for today's date (the submission)."""
    latest = latest_date(name, clock)
    if day > latest:
        raise Invalid.field(
            "business_date",
            "not_after_due_date",
            f"{name} runs today for {latest} at the latest, not for a later date",
        )
    if day < latest and not JOBS[name].past_dates:
        raise Invalid.field(
            "business_date",
            "due_date_only",
            f"{name} runs only for the date it runs for today ({latest})",
        )


def run_for_date(state: Any, clock: Clock, name: str, day: date, *, again: bool) -> RunOutcome:
    """Check the date, then run the job now in this process (`state`: the app's state with
    its session factory, settings and bank gateway). A date already done is skipped unless
    `again`; a failed one is retried."""
    check_date(name, day, clock)
    factory = state.session_factory
    bind = factory.kw["bind"]
    ctx = JobContext(
        session_factory=factory,
        engine=getattr(bind, "engine", bind),
        clock=clock,
        settings=state.settings,
        gateway=getattr(state, "bank_gateway", None),
    )
    return run_job(ctx, name, day, again=again)
