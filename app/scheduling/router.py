"""Jobs: list with last and next run; an operator runs one for a business date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from app.auth.deps import Operator, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.scheduling import service
from app.scheduling.rules import Outcome, RunStatus
from jobs import manual
from jobs.listing import listed_jobs

router = APIRouter(prefix="/api/v1/jobs", route_class=StrictJSONRoute, tags=["jobs"])


class RunOut(BaseModel):
    business_date: date | None
    status: RunStatus
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    detail: Any


class JobOut(BaseModel):
    name: str
    at: str
    working_days_only: bool
    description: str
    last_run: RunOut | None
    next_run: datetime | None  # None for the bank re-query sweep (every few minutes)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_date: date
    again: bool = False  # run even if this date's run succeeded (jobs are idempotent)


class OutcomeOut(BaseModel):
    job: str
    business_date: date | None
    status: Outcome
    detail: Any


def _run_out(row: Any) -> RunOut | None:
    if row is None:
        return None
    return RunOut(
        business_date=row.business_date,
        status=RunStatus(row.status),
        attempts=row.attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        detail=row.detail,
    )


@router.get("")
def list_jobs(_: Staff, session: SessionDep, clock: ClockDep, request: Request) -> list[JobOut]:
    """Every job the scheduler runs, with its last run and (date-keyed jobs) its next."""
    return [
        JobOut(
            name=job.name,
            at=job.at,
            working_days_only=job.working_days_only,
            description=job.description,
            last_run=_run_out(service.last_run(session, job.name)),
            next_run=job.next_run,
        )
        for job in listed_jobs(session, clock.now(), request.app.state.settings)
    ]


@router.post("/{name}/run")
def run_job(name: str, body: RunIn, request: Request, _: Operator, clock: ClockDep) -> OutcomeOut:
    """Run a job now for a business date (recorded in job_run; a date already done is
    skipped, a failed one retried)."""
    outcome = manual.run_for_date(
        request.app.state, clock, name, body.business_date, again=body.again
    )
    return OutcomeOut(
        job=outcome.job,
        business_date=outcome.business_date,
        status=outcome.status,
        detail=outcome.detail,
    )
