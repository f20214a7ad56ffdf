"""Pure daily-disbursement rules (SPEC §3.3–3.4): amounts, lines, pay dates, approvals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.institutions.rules import Policy
from app.money import apply_ratio
from app.workdays.rules import WorkCalendar


def ratio_on(versions: Sequence[Policy], day: date) -> int:
    """daily_ratio (bp) of the version in force on the settlement's date."""
    current = None
    for version in sorted(versions, key=lambda v: v.effective_from):
        if version.effective_from <= day:
            current = version
    assert current is not None, f"no policy in force on {day}"
    return current.daily_ratio_bp


def daily_amount(fund_amount_fen: int, ratio_bp: int) -> int:
    """round(fund_amount × daily_ratio), half up, per settlement."""
    assert fund_amount_fen >= 0
    return apply_ratio(fund_amount_fen, ratio_bp)


def pay_date(calendar: WorkCalendar, business_date: date) -> date:
    """On or after D+1: weekend and holiday batches wait for the next working day."""
    return calendar.on_or_after(business_date + timedelta(days=1))


@dataclass(frozen=True)
class Detail:
    setl_date: date
    fund_amount_fen: int
    ratio_bp: int

    @property
    def daily_amount_fen(self) -> int:
        return daily_amount(self.fund_amount_fen, self.ratio_bp)


@dataclass(frozen=True)
class Line:
    settlement_count: int
    fund_total_fen: int
    amount_fen: int
    late: bool


def line_of(details: Sequence[Detail], business_date: date) -> Line:
    """A line's totals are the exact sums of its details; late when one is dated before D."""
    assert details, "a line has at least one settlement"
    return Line(
        settlement_count=len(details),
        fund_total_fen=sum(d.fund_amount_fen for d in details),
        amount_fen=sum(d.daily_amount_fen for d in details),
        late=any(d.setl_date < business_date for d in details),
    )


def approvals_required(amount_fen: int, threshold_fen: int | None) -> int:
    """Above the configured amount (off when None) a second accountant approves too."""
    return 2 if threshold_fen is not None and amount_fen > threshold_fen else 1
