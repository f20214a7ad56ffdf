"""Statuses of a payment to a person (SPEC-ASSISTANCE A6, A10 "Person payments"): pure.

    PENDING_APPROVAL ─approve (paid > 0)→ NOT_SENT ─submission→ PENDING ─bank SUCCESS→ PAID
          │       └─approve (paid = 0)→ SETTLED            ↑            │              │
          └─reject→ REJECTED                 re-approve ───┤      bank FAILED     bank RETURNED
                                                           └──── FAILED / RETURNED ←┘

NOT_SENT is also where a payment waits while the 610 funds check holds it. A FAILED or
RETURNED payment is re-approved (maker–checker) after the person's account is corrected and
sent again under a new instruction id (`bank.rules.resend_id`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from app.states import Machine, values


class PaymentKind(StrEnum):
    APPLICATION = "application"  # 救助申请 / 零星报销
    TOP_UP = "top_up"  # 补差发放 (a positive clearing result)
    GRANT = "grant"  # 大病关怀救助


class PersonPaymentStatus(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    NOT_SENT = "NOT_SENT"
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    SETTLED = "SETTLED"
    REJECTED = "REJECTED"


if TYPE_CHECKING:
    StatusValue = str
    KindValue = str
else:
    StatusValue = Literal[values(PersonPaymentStatus)]
    KindValue = Literal[values(PaymentKind)]

S = PersonPaymentStatus
PERSON_PAYMENT: Machine[PersonPaymentStatus] = Machine(
    "a person payment",
    {
        S.PENDING_APPROVAL: {S.NOT_SENT, S.SETTLED, S.REJECTED},
        S.NOT_SENT: {S.PENDING},
        S.PENDING: {S.PAID, S.FAILED},
        S.PAID: {S.RETURNED},
        S.FAILED: {S.NOT_SENT},  # re-approved: resent under a new id
        S.RETURNED: {S.NOT_SENT},  # re-approved: resent under a new id
        S.SETTLED: set(),
        S.REJECTED: set(),
    },
)

STATUS_NAMES: dict[str, str] = {
    S.PENDING_APPROVAL: "待审批",
    S.NOT_SENT: "已审批待拨付",
    S.PENDING: "拨付中",
    S.PAID: "已拨付",
    S.FAILED: "拨付失败",
    S.RETURNED: "已退票",
    S.SETTLED: "已抵扣结清",
    S.REJECTED: "已驳回",
}
assert set(STATUS_NAMES) == set(S), "every status has a name"

# Re-approved for a new instruction after the bank failed or returned the payment.
RESENDABLE = (S.FAILED, S.RETURNED)
# The bank's results (app/bank instruction statuses) → the payment's status.
_AFTER_PAYMENT = {"SUCCESS": S.PAID, "FAILED": S.FAILED, "RETURNED": S.RETURNED}


def status_after_approval(paid_fen: int) -> PersonPaymentStatus:
    """Something left to pay waits for the submission; everything deducted is settled."""
    assert paid_fen >= 0
    return S.NOT_SENT if paid_fen > 0 else S.SETTLED


def status_after_payment(current: str, bank_status: str) -> PersonPaymentStatus | None:
    """The payment's status after its current instruction's result, or None when the result
    does not move it (not final, or known already)."""
    new = _AFTER_PAYMENT.get(bank_status)
    if new is None or new == current:
        return None
    PERSON_PAYMENT.check(current, new)
    return new
