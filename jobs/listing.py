"""What `fundledger jobs list` and `GET /api/v1/jobs` show: every job the scheduler runs —
the date-keyed ones of the registry and the bank re-query sweep — with descriptions that read
the policy and the settings instead of repeating times written in code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.clock import business_date
from app.config import Settings
from app.institutions import service as institutions
from app.workdays import service as workdays
from jobs.registry import JOBS, REQUERY_EVERY_MINUTES

REQUERY_JOB = "bank_requery"


@dataclass(frozen=True)
class Listed:
    name: str
    at: str  # Shanghai wall-clock time "HH:MM", or "every N min" for the sweep
    working_days_only: bool
    description: str
    next_run: datetime | None  # None: the sweep's next turn depends on the scheduler's start


def _cutoffs(session: Session, now: datetime) -> str:
    """The submission and cut-off times of the policies in force today."""
    today = business_date(now)
    pairs = set()
    for fund in institutions.list_fund_ledgers(session):
        policy = institutions.policy_on(session, fund.id, today)
        if policy is not None:
            pairs.add(f"{policy.submission_time:%H:%M}–{policy.cutoff_time:%H:%M}")
    if not pairs:
        return "no fund ledger has a policy in force today"
    return "policy submission–cut-off: " + ", ".join(sorted(pairs))


def listed_jobs(session: Session, now: datetime, settings: Settings) -> list[Listed]:
    calendar = workdays.load(session)
    listed = []
    for spec in sorted(JOBS.values(), key=lambda s: s.at):
        description = spec.description
        if spec.name == "submission":
            description = f"{description} ({_cutoffs(session, now)})"
        listed.append(
            Listed(
                name=spec.name,
                at=spec.at.strftime("%H:%M"),
                working_days_only=spec.working_days_only,
                description=description,
                next_run=spec.next_run(now, calendar),
            )
        )
    after_minutes = settings.bank_requery_after_s // 60
    listed.append(
        Listed(
            name=REQUERY_JOB,
            at=f"every {REQUERY_EVERY_MINUTES} min",
            working_days_only=False,
            description=(
                f"asks the bank about instructions without a result {after_minutes} minutes "
                "after sending; sends again, with the same id, those that never left"
            ),
            next_run=None,
        )
    )
    return listed
