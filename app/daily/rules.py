"""Pure daily-disbursement rules (SPEC §3.3–3.4): amounts, lines, pay dates, approvals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.institutions.rules import Policy
from app.money import apply_ratio
from app.states import Machine
from app.workdays.rules import WorkCalendar


class BatchStatus(StrEnum):
    """A daily batch (stored in daily_batch.status)."""

    PUSHED = "PUSHED"  # generated (or pushed again), waiting for the accountants
    APPROVED = "APPROVED"  # approved, waiting for its pay date's submission
    REJECTED = "REJECTED"  # sent back to the operator (hold back lines, push again)
    SUBMITTED = "SUBMITTED"  # its lines handed to the bank outbox
    EMPTY = "EMPTY"  # generated without a line: nothing to approve or pay


BATCH: Machine[BatchStatus] = Machine(
    "a daily batch",
    {
        BatchStatus.PUSHED: {BatchStatus.APPROVED, BatchStatus.REJECTED, BatchStatus.EMPTY},
        BatchStatus.REJECTED: {BatchStatus.PUSHED},
        BatchStatus.APPROVED: {BatchStatus.SUBMITTED},
        BatchStatus.SUBMITTED: set(),
        BatchStatus.EMPTY: set(),
    },
)
BATCH_START = BatchStatus.PUSHED  # every batch is generated PUSHED (EMPTY when it has no line)


class LineStatus(StrEnum):
    """A daily line's payment, read from its instruction (SCENARIOS.md; not stored)."""

    PAID = "PAID"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    PENDING = "PENDING"  # sent, no final result yet
    NOT_SENT = "NOT_SENT"


LINE: Machine[LineStatus] = Machine(
    "a daily line",
    {
        LineStatus.NOT_SENT: {LineStatus.PENDING, LineStatus.PAID, LineStatus.FAILED},
        LineStatus.PENDING: {LineStatus.PAID, LineStatus.FAILED},
        LineStatus.PAID: {LineStatus.RETURNED},  # the bank returns a paid amount
        LineStatus.FAILED: set(),
        LineStatus.RETURNED: set(),
    },
)
LINE_START = LineStatus.NOT_SENT

# The bank's final results of an instruction as a line's status; any other is PENDING.
_LINE_OF_RESULT = {
    "SUCCESS": LineStatus.PAID,
    "FAILED": LineStatus.FAILED,
    "RETURNED": LineStatus.RETURNED,
}


def line_status(instruction_status: str | None) -> LineStatus:
    """A line's status from its instruction's (None: no instruction yet)."""
    if instruction_status is None:
        return LineStatus.NOT_SENT
    return _LINE_OF_RESULT.get(instruction_status, LineStatus.PENDING)


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
