"""Every scheduled job: when it runs, for which business date, and what it calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from app.clock import business_date as date_of
from app.clock import shanghai
from app.jobcontext import JobContext
from app.wiring import wire
from app.workdays.rules import WorkCalendar
from jobs import (
    alerts_check,
    annual_clearing,
    assistance_burden,
    assistance_prepayment,
    assistance_suggestions,
    audit_finalize,
    bank_statement,
    daily_batch,
    month_start_summary,
    monthly_compute,
    settlement_partitions,
    submission,
)

wire()  # every job and command runs with the payable documents wired (app/wiring.py)

CATCH_UP_DAYS_MAX = 31


@dataclass(frozen=True)
class JobSpec:
    name: str
    at: time  # Shanghai wall-clock time
    working_days_only: bool
    # business date of the run at a given Shanghai date (daily batch: the day before)
    date_offset_days: int
    run: Callable[[JobContext, date], dict[str, Any]]
    catch_up: bool  # missed business dates are run at start-up, in order
    description: str
    # False: only for the date it runs for today (the submission pays what is due today,
    # requested for today; an earlier date is not something the bank takes)
    past_dates: bool = True

    def business_date(self, run_day: date) -> date:
        return run_day - timedelta(days=self.date_offset_days)

    def runs_on(self, day: date, calendar: WorkCalendar) -> bool:
        return calendar.is_working(day) if self.working_days_only else True

    def next_run(self, now: datetime, calendar: WorkCalendar) -> datetime:
        local = shanghai(now)
        day = local.date()
        if local.time() >= self.at or not self.runs_on(day, calendar):
            day += timedelta(days=1)
        while not self.runs_on(day, calendar):
            day += timedelta(days=1)
        return datetime.combine(day, self.at, tzinfo=local.tzinfo)


JOBS: dict[str, JobSpec] = {}


def register(spec: JobSpec) -> None:
    JOBS[spec.name] = spec


register(
    JobSpec(
        "alerts",
        time(0, 0),
        False,
        0,
        alerts_check.run,
        False,
        "deadline alerts: calendar confirmation and late documents",
    )
)
register(
    JobSpec(
        "settlement_partitions",
        time(0, 5),
        False,
        0,
        settlement_partitions.run,
        True,
        "the settlements' monthly partitions: last month to two months ahead, and any period "
        "held in the default partition (PostgreSQL; issue 20.4)",
    )
)
register(
    JobSpec(
        "daily_batch",
        time(0, 30),
        False,
        1,
        daily_batch.run,
        True,
        "daily batch of the previous day for every fund ledger (SPEC §3.3)",
    )
)
register(
    JobSpec(
        "monthly_compute",
        time(1, 0),
        True,
        0,
        monthly_compute.run,
        False,
        "monthly statements of the declared, due periods (SPEC §4)",
    )
)
register(
    JobSpec(
        "submission",
        time(14, 30),
        True,
        0,
        submission.run,
        False,
        "approved payments due today to the bank, before each fund ledger's cut-off",
        past_dates=False,
    )
)
register(
    JobSpec(
        "audit_finalize",
        time(23, 59),
        False,
        0,
        audit_finalize.run,
        False,
        "unappealed audit results become final when the appeal window closes",
    )
)


register(
    JobSpec(
        "annual_clearing",
        time(2, 0),
        False,
        0,
        annual_clearing.run,
        False,
        "annual clearings of the institutions whose year is ready (SPEC §5)",
    )
)


register(
    JobSpec(
        "month_start_summary",
        time(8, 0),
        False,
        0,
        month_start_summary.run,
        False,
        "on the 5th (on or after): last month's successful daily payments by payment date",
    )
)

register(
    JobSpec(
        "bank_statement",
        time(6, 0),
        False,
        1,
        bank_statement.run,
        True,
        "the bank's statement of the previous working day for every expenditure account, "
        "reconciled with the ledger (银行对账)",
    )
)

register(
    JobSpec(
        "assistance_prepayment",
        time(3, 0),
        True,
        0,
        assistance_prepayment.run,
        False,
        "the assistance fund's yearly prepayment (预付款), on the first working day on or "
        "after the policy's prepayment day (SPEC-ASSISTANCE A8)",
    )
)

register(
    JobSpec(
        "assistance_suggestions",
        time(6, 0),
        False,
        0,
        assistance_suggestions.run,
        False,
        "real-time clearing suggestions (实时清算提示): person-years changed since their last "
        "clearing with a difference (SPEC-ASSISTANCE A7); nothing clears by itself",
    )
)

register(
    JobSpec(
        "assistance_burden",
        time(6, 10),
        False,
        0,
        assistance_burden.run,
        False,
        "the burden reminder (综合减负提醒): one alert per person-year whose self-paid cost "
        "exceeds the burden line of last year's income (SPEC-ASSISTANCE A8), resolved once its "
        "burden relief is recorded",
    )
)

# The re-query sweeper runs every REQUERY_EVERY_MINUTES (not date-keyed; jobs/scheduler.py).
REQUERY_EVERY_MINUTES = 10


def due_today(spec: JobSpec, now: datetime, calendar: WorkCalendar) -> date | None:
    """The business date a run at `now` is for, or None when the job does not run today or
    its time has not come."""
    local = shanghai(now)
    if not spec.runs_on(local.date(), calendar) or local.time() < spec.at:
        return None
    return spec.business_date(date_of(now))
