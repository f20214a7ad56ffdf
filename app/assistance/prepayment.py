"""Pure rules of the prepayment to the fund (SPEC-ASSISTANCE.md A8, A10).

No database, no clock, no I/O; moved out of app/assistance/rules.py as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.money import apply_ratio
from app.states import Machine
from app.workdays.rules import DAYS_OFF_IN_A_ROW_MAX, CalendarError


class PrepaymentStatus(StrEnum):
    COMPUTED = "COMPUTED"  # stays here after the first of the two approvals
    APPROVED = "APPROVED"  # two accountants approved, with the finance bureau's reference
    RECEIVED = "RECEIVED"  # the transfer arrived (or a zero transfer was recorded)


PREPAYMENT = Machine(
    "a prepayment",
    {
        PrepaymentStatus.COMPUTED: {PrepaymentStatus.APPROVED},
        PrepaymentStatus.APPROVED: {PrepaymentStatus.RECEIVED},
        PrepaymentStatus.RECEIVED: set(),
    },
)


PREPAYMENT_APPROVALS_NEEDED = 2


@dataclass(frozen=True)
class Prepayment:
    year: int
    actual_fen: int  # the year before's assistance expense
    rate_bp: int
    due_fen: int  # actual × rate, rounded once
    carried_fen: int  # bank:R:610 at the end of the year before (年末余额结转)
    transfer_fen: int  # max(0, due − carried) (抵减预付款额度)


def prepayment(year: int, *, actual_fen: int, carried_fen: int, rate_bp: int) -> Prepayment:
    """A8: due = actual × rate_bp / 10000 rounded once half-up; transfer = max(0, due −
    carried)."""
    due = apply_ratio(actual_fen, rate_bp)
    result = Prepayment(year, actual_fen, rate_bp, due, carried_fen, max(0, due - carried_fen))
    assert result.transfer_fen >= 0
    return result


def prepayment_applies(fund_on_from: date, year: int) -> bool:
    """A10: only a region whose 610 fund was on before 1 January of the year prepaid."""
    return fund_on_from < date(year, 1, 1)


def prepayment_date(
    year: int, month_day: tuple[int, int], is_working_day: Callable[[date], bool]
) -> date:
    """The first working day on or after the policy's prepayment day of the year."""
    month, day = month_day
    start = date(year, month, day)
    for offset in range(DAYS_OFF_IN_A_ROW_MAX + 1):
        candidate = start + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise CalendarError(f"no working day within {DAYS_OFF_IN_A_ROW_MAX} days of {start}")
