"""Run one job for one business date: cross-process lock, job_run record, outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.jobcontext import JobContext
from app.scheduling import service as scheduling
from app.scheduling.rules import Outcome
from jobs.registry import JOBS

log = logging.getLogger("fundledger.jobs")


@dataclass(frozen=True)
class RunOutcome:
    job: str
    business_date: date | None
    status: Outcome
    detail: Any


def run_job(ctx: JobContext, name: str, business_date: date, *, again: bool = False) -> RunOutcome:
    """Run one job for one date under the job's cross-process lock."""
    with scheduling.job_lock(ctx.engine, name) as acquired:
        if not acquired:
            return RunOutcome(name, business_date, Outcome.SKIPPED, "another process runs it")
        return run_locked(ctx, name, business_date, again=again)


def run_locked(
    ctx: JobContext, name: str, business_date: date, *, again: bool = False
) -> RunOutcome:
    """Run while the caller holds the job's lock (catch-up holds it across its dates, so
    two processes never interleave the dates of one job)."""
    spec = JOBS[name]
    run_id = scheduling.claim(
        ctx.session_factory,
        name,
        business_date,
        runner=ctx.runner,
        now=ctx.clock.now(),
        again=again,
    )
    if run_id is None:
        return RunOutcome(name, business_date, Outcome.SKIPPED, "already done")
    try:
        detail = spec.run(ctx, business_date)
    except Exception as error:
        log.exception("job %s for %s failed", name, business_date)
        scheduling.finish(
            ctx.session_factory,
            run_id,
            ok=False,
            detail={"error": repr(error)[:500]},
            now=ctx.clock.now(),
        )
        return RunOutcome(name, business_date, Outcome.FAILED, repr(error)[:500])
    scheduling.finish(ctx.session_factory, run_id, ok=True, detail=detail, now=ctx.clock.now())
    return RunOutcome(name, business_date, Outcome.SUCCEEDED, detail)
