"""Pure rules of the individual clearing and of recovering what a person owes
(SPEC-ASSISTANCE.md A7, A10).

No database, no clock, no I/O; moved out of app/assistance/rules.py as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.errors import Conflict, Invalid

CLAIMS_PER_PERSON_MAX = 10_000


def granted(*, maf_pay_fen: int, applications_fen: int, clearings_fen: int) -> int:
    """Granted of a person-year: Σ maf_pay of unrevoked settlements + Σ application amounts
    (before deduction, rejected ones out) + Σ earlier clearing results (signed)."""
    assert maf_pay_fen >= 0 and applications_fen >= 0
    return maf_pay_fen + applications_fen + clearings_fen


def difference(due_fen: int, granted_fen: int) -> int:
    """清算结果差额 = 应救助金额 − 实际救助金额: > 0 owed to the person, < 0 owed by them."""
    return due_fen - granted_fen


class ClearingMode(StrEnum):
    REALTIME = "realtime"  # 实时清算
    ANNUAL = "annual"  # 定时清算


class Resolution(StrEnum):
    NEXT_PERIOD = "next_period"  # 下期抵扣
    CASH = "cash"  # 现金追款


def clearing_resolution(
    difference_fen: int, *, mode: ClearingMode, requested: Resolution | None = None
) -> Resolution | None:
    """The resolution a clearing result carries (A10): None unless negative; a negative
    annual result is always `next_period`; a real-time one takes the requested (default
    `next_period`). A real-time clearing of a zero difference is refused (409)."""
    if mode is ClearingMode.REALTIME and difference_fen == 0:
        raise Conflict("the difference is zero: nothing to clear", code="nothing-to-clear")
    if difference_fen >= 0:
        return None
    if mode is ClearingMode.ANNUAL:
        return Resolution.NEXT_PERIOD
    return requested or Resolution.NEXT_PERIOD


@dataclass(frozen=True)
class Claim:
    """An open negative clearing result of a person (a part of the person receivable)."""

    key: str  # the clearing's reference
    at: datetime  # when the result was made: oldest first
    resolution: Resolution
    open_fen: int
    notice_delivered: bool = False

    def __post_init__(self) -> None:
        assert self.open_fen >= 0 and self.at.tzinfo is not None


@dataclass(frozen=True)
class Recovery:
    claim_key: str
    amount_fen: int


def _take(amount_fen: int, claims: Iterable[Claim]) -> tuple[Recovery, ...]:
    """Each claim in turn reduced by as much as is left (the same fen both sides)."""
    recoveries = []
    left = amount_fen
    for claim in claims:
        if left == 0:
            break
        taken = min(left, claim.open_fen)
        if taken > 0:
            recoveries.append(Recovery(claim.key, taken))
            left -= taken
    return tuple(recoveries)


def _oldest_first(claims: Iterable[Claim]) -> list[Claim]:
    ordered = sorted(claims, key=lambda claim: (claim.at, claim.key))
    assert len(ordered) <= CLAIMS_PER_PERSON_MAX
    return ordered


@dataclass(frozen=True)
class PaymentSplit:
    """A person payment (application, top-up, grant) after 下期抵扣: paid = amount − deducted."""

    amount_fen: int
    deducted_fen: int
    paid_fen: int
    recoveries: tuple[Recovery, ...]


def split_person_payment(amount_fen: int, claims: Sequence[Claim]) -> PaymentSplit:
    """A6/A10: deduct only from `next_period` claims whose notice is delivered, oldest first;
    `cash` claims and undelivered notices are never deducted from a payment."""
    assert amount_fen >= 0
    deductible = [
        claim
        for claim in _oldest_first(claims)
        if claim.resolution is Resolution.NEXT_PERIOD and claim.notice_delivered
    ]
    recoveries = _take(amount_fen, deductible)
    deducted = sum(recovery.amount_fen for recovery in recoveries)
    split = PaymentSplit(amount_fen, deducted, amount_fen - deducted, recoveries)
    assert 0 <= split.paid_fen <= amount_fen
    return split


def allocate_repayment(amount_fen: int, claims: Sequence[Claim]) -> tuple[Recovery, ...]:
    """A cash repayment (A10): cash claims first, then next-period ones (notice delivered or
    not), oldest first within each; more than the open receivable is refused (422)."""
    assert amount_fen > 0, "a repayment is positive"
    ordered = _oldest_first(claims)
    open_total = sum(claim.open_fen for claim in ordered)
    if amount_fen > open_total:
        raise Invalid.field(
            "amount",
            "repayment_beyond_receivable",
            f"the person owes {open_total} fen; the repayment is {amount_fen} fen",
        )
    cash_first = [c for c in ordered if c.resolution is Resolution.CASH] + [
        c for c in ordered if c.resolution is not Resolution.CASH
    ]
    recoveries = _take(amount_fen, cash_first)
    assert sum(recovery.amount_fen for recovery in recoveries) == amount_fen
    return recoveries
