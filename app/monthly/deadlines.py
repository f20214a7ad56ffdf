"""The working-day limits of a monthly payment (SPEC §4), as dates an accountant works to.

- Settlement: a declared period is to be settled within 20 working days of its computation
  date (after that, `statement_not_computed` is raised for an uncomputed one); a confirmed
  statement waiting for approval is due by the same day.
- Payment: an approved payment is to be paid within 5 working days of its approval (after that,
  `statement_not_paid`); a failed one waiting for re-approval is due by the same day.

Pure: no database, no clock.
"""

from __future__ import annotations

from datetime import date

from app.monthly import rules
from app.workdays.rules import WorkCalendar

SETTLEMENT_WORKING_DAYS = 20
PAYMENT_WORKING_DAYS = 5


def settlement_deadline(period: str, declaration_day: int, calendar: WorkCalendar) -> date:
    """The 20th working day after the period's computation date."""
    computed_from = rules.computation_date(period, declaration_day, calendar)
    return calendar.nth_after(computed_from, SETTLEMENT_WORKING_DAYS)


def payment_deadline(approved_on: date, calendar: WorkCalendar) -> date:
    """The 5th working day after the (Shanghai) date of the approval."""
    return calendar.nth_after(approved_on, PAYMENT_WORKING_DAYS)


CONFIRMATION_WARNING_DAYS = 5  # working days before the settlement deadline


def past(deadline: date, today: date) -> bool:
    """A limit is kept on its last day: overdue from the day after (not before, not on it)."""
    return today > deadline


def confirmation_late(
    period: str, declaration_day: int, today: date, calendar: WorkCalendar
) -> date | None:
    """The settlement deadline of a statement still awaiting the hospital's confirmation,
    when at most CONFIRMATION_WARNING_DAYS working days are left before it (its approval and
    payment need them), else None."""
    deadline = settlement_deadline(period, declaration_day, calendar)
    if calendar.working_days_between(today, deadline) <= CONFIRMATION_WARNING_DAYS:
        return deadline
    return None
