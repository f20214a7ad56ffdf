"""Pure rules of the deadline reports (docs/rules.md "Deadline reports"). No database.

A payment's date is the submission date of its successful instruction (the date the bank
paid it, as the month-start summary counts it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.workdays.rules import WorkCalendar

ON_TIME, LATE, UNPAID = "on_time", "late", "unpaid"


def t1_target(setl_date: date, calendar: WorkCalendar) -> date:
    """T+1: a settlement is paid on the first working day after its date."""
    return calendar.after(setl_date)


def timeliness(paid_on: date | None, due: date) -> str:
    if paid_on is None:
        return UNPAID
    return ON_TIME if paid_on <= due else LATE


def share_bp(part: int, whole: int) -> int | None:
    """part / whole in basis points, rounded half up; None when there is nothing to count."""
    if whole <= 0:
        return None
    return (part * 10000 * 2 + whole) // (whole * 2)


@dataclass
class Tally:
    total: int = 0
    on_time: int = 0
    late: int = 0
    unpaid: int = 0
    amount_fen: int = 0
    on_time_fen: int = 0

    def add(self, outcome: str, count: int, amount_fen: int) -> None:
        self.total += count
        self.amount_fen += amount_fen
        if outcome == ON_TIME:
            self.on_time += count
            self.on_time_fen += amount_fen
        elif outcome == LATE:
            self.late += count
        else:
            self.unpaid += count

    @property
    def share_bp(self) -> int | None:
        return share_bp(self.on_time, self.total)


# --- the month-start summary against the statements' daily_paid (item 6) ----------------------

EARLIER_PERIOD = "earlier_period"  # paid this month for a settlement of an earlier period
PAID_NEXT_MONTH = "paid_next_month"  # a settlement of this period paid in a later month
RETURNED = "returned"  # paid, then returned by the bank
NOT_COMPUTED = "not_computed"  # the period's statement is not computed yet
OTHER = "other"  # what the listed reasons do not explain

REASONS = {
    EARLIER_PERIOD: "上期结算、本月支付（计入本月汇总，不计入本期日拨付已付）",
    PAID_NEXT_MONTH: "本期结算、次月支付（计入本期日拨付已付，不计入本月汇总）",
    RETURNED: "银行退票（月初汇总按支付日口径变化）",
    NOT_COMPUTED: "本期月度结算单尚未计算",
    OTHER: "其他差异（未能归因）",
}


def tie_reason(period: str, month: str, pay_month: str | None) -> str | None:
    """Why a settlement's paid daily amount counts on one side only, or None when it counts on
    both (period = month = month of payment) or on neither."""
    if pay_month == month and period < month:
        return EARLIER_PERIOD
    if period == month and pay_month is not None and pay_month > month:
        return PAID_NEXT_MONTH
    return None
