"""The payable document's state machine (pure): statuses, the legal moves, the status after an
approval and after a bank payment result. Monthly statements and annual clearings follow it;
so will the assistance fund's statements and its payments to persons (SPEC-ASSISTANCE).

    COMPUTED ─confirm→ CONFIRMED ─approve→ APPROVED ─bank SUCCESS→ PAID ─bank RETURNED→ RETURNED
                                                                (re-approve: resend_returned kinds)
       │  ↑                   │                │ ↑
    dispute recompute         │          FAILED│ │re-approve
       ↓  │                   │                ↓ │
     DISPUTED                 ├─approve (amount = 0)→ SETTLED
                              └─approve (amount < 0)→ RECEIVABLE
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from app.states import Machine, values


class DocumentStatus(StrEnum):
    COMPUTED = "COMPUTED"
    DISPUTED = "DISPUTED"
    CONFIRMED = "CONFIRMED"
    APPROVED = "APPROVED"
    PAID = "PAID"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    SETTLED = "SETTLED"
    RECEIVABLE = "RECEIVABLE"


# The status values as a `Literal` for query parameters and response schemas (an inline enum in
# the OpenAPI, and a 422 `literal_error` for any other value), taken from the StrEnum.
if TYPE_CHECKING:
    StatusValue = str
else:
    StatusValue = Literal[values(DocumentStatus)]

S = DocumentStatus
DOCUMENT: Machine[DocumentStatus] = Machine(
    "a payable document",
    {
        S.COMPUTED: {S.CONFIRMED, S.DISPUTED},
        S.DISPUTED: {S.COMPUTED},  # recomputed
        S.CONFIRMED: {S.APPROVED, S.SETTLED, S.RECEIVABLE},
        S.APPROVED: {S.PAID, S.FAILED},
        S.FAILED: {S.APPROVED},  # re-approved: resent with a new instruction id
        S.PAID: {S.RETURNED},
        # re-approved for resending, only by a kind whose returns nothing else takes
        # (`Kind.resend_returned`: assistance statements; SPEC §4 takes the others' returns
        # into the next monthly statement)
        S.RETURNED: {S.APPROVED},
        S.SETTLED: set(),
        S.RECEIVABLE: set(),
    },
)

# How exports and pages name each status (Chinese, as the fund office says it).
STATUS_NAMES: dict[str, str] = {
    S.COMPUTED: "已计算待确认",
    S.DISPUTED: "有异议",
    S.CONFIRMED: "已确认待审批",
    S.APPROVED: "已审批待拨付",
    S.PAID: "已拨付",
    S.FAILED: "拨付失败",
    S.RETURNED: "已退票",
    S.SETTLED: "已结清",
    S.RECEIVABLE: "应收",
}
assert set(STATUS_NAMES) == set(S), "every status has a name"

# Documents not yet approved hold the offset they took from the receivable (SPEC §5).
HOLDS_OFFSET = (S.COMPUTED, S.DISPUTED, S.CONFIRMED)
# Nothing more happens to a document in these (its money has moved or never will) — for the
# kinds whose returns the next monthly statement takes; a RETURNED document of a kind with
# `resend_returned` (assistance statements) may still be re-approved and resent.
FINAL = (S.PAID, S.SETTLED, S.RECEIVABLE, S.RETURNED)
# Done for good: the annual clearing's deadline alert leaves these out.
DONE = (S.PAID, S.SETTLED, S.RECEIVABLE)
# Approved for payment and not yet paid.
UNPAID = (S.APPROVED, S.FAILED)

# The bank's final payment results (app/bank) → the document's status.
_AFTER_PAYMENT = {"SUCCESS": S.PAID, "FAILED": S.FAILED, "RETURNED": S.RETURNED}


def status_after_approval(amount_fen: int) -> DocumentStatus:
    """An amount > 0 is paid through the bank, = 0 is settled, < 0 is a receivable."""
    if amount_fen > 0:
        return S.APPROVED
    return S.SETTLED if amount_fen == 0 else S.RECEIVABLE


def status_after_payment(current: str, bank_status: str) -> DocumentStatus:
    """The document's status once its instruction has `bank_status` (the one place SUCCESS
    means PAID). A status that is no result yet leaves it as it is; a result the table does
    not allow from `current` raises `IllegalTransition`."""
    now = S(current)
    new = _AFTER_PAYMENT.get(bank_status)
    if new is None or new == now:
        return now
    DOCUMENT.check(now, new)
    return new
