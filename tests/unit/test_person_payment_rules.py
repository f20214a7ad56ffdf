"""The pure pieces of the payments to persons (SPEC-ASSISTANCE A6, A7, A10): the status machine,
the entry builders of the person accounts, the bank's P instruction ids."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.assistance import person_payments
from app.assistance.person_status import (
    PERSON_PAYMENT,
    PersonPaymentStatus,
    status_after_approval,
    status_after_payment,
)
from app.bank import rules as bank_rules
from app.bank import service as bank
from app.bank.simulator import BankSimulator
from app.ledger import person_entries
from app.ledger.rules import LedgerRuleError, Line, account_code
from app.states import IllegalTransition
from app.wiring import ASSISTANCE_PAYABLES, wire

S = PersonPaymentStatus
AT = datetime(2026, 8, 17, 1, 0, tzinfo=UTC)


def _lines(draft: object) -> set[tuple[str, str, int]]:
    assert draft is not None
    return {(line.account, line.side, line.amount_fen) for line in draft.lines}  # type: ignore[attr-defined]


def test_the_machine() -> None:
    assert status_after_approval(1) == S.NOT_SENT
    assert status_after_approval(0) == S.SETTLED
    assert status_after_payment("PENDING", "SUCCESS") == S.PAID
    assert status_after_payment("PENDING", "FAILED") == S.FAILED
    assert status_after_payment("PAID", "RETURNED") == S.RETURNED
    assert status_after_payment("PAID", "SUCCESS") is None  # known already
    assert status_after_payment("PENDING", "ACCEPTED") is None
    with pytest.raises(IllegalTransition):
        status_after_payment("SETTLED", "SUCCESS")
    assert PERSON_PAYMENT.allows("FAILED", "NOT_SENT") and PERSON_PAYMENT.allows(
        "RETURNED", "NOT_SENT"
    )
    assert not PERSON_PAYMENT.allows("PENDING_APPROVAL", "PENDING")
    assert PERSON_PAYMENT.final() == {S.SETTLED, S.REJECTED}


def test_approval_entry_with_a_deduction() -> None:
    draft = person_entries.person_payment_approval(
        payment_id=7,
        region_code="640100",
        psn_no="P1",
        amount_fen=60_000,
        deducted_fen=20_000,
        effective_at=AT,
    )
    assert draft is not None and draft.key == "person_payment:7:approval"
    assert draft.insutype == "610" and draft.fixmedins_code == "PP1"
    assert _lines(draft) == {
        ("expense:640100:610", "D", 60_000),
        ("payable:640100:610:PP1", "C", 60_000),
        ("payable:640100:610:PP1", "D", 20_000),
        ("receivable:640100:610:PP1", "C", 20_000),
    }
    assert sum(x.amount_fen for x in draft.lines if x.side == "D") == sum(
        x.amount_fen for x in draft.lines if x.side == "C"
    )


def test_approval_entry_edges() -> None:
    nothing = person_entries.person_payment_approval(
        payment_id=1,
        region_code="640100",
        psn_no="P1",
        amount_fen=0,
        deducted_fen=0,
        effective_at=AT,
    )
    assert nothing is None
    whole = person_entries.person_payment_approval(
        payment_id=2,
        region_code="640100",
        psn_no="P1",
        amount_fen=500,
        deducted_fen=500,
        effective_at=AT,
    )
    assert whole is not None and len(whole.lines) == 4
    with pytest.raises(LedgerRuleError):
        person_entries.person_payment_approval(
            payment_id=3,
            region_code="640100",
            psn_no="P1",
            amount_fen=5,
            deducted_fen=6,
            effective_at=AT,
        )
    with pytest.raises(LedgerRuleError):
        person_entries.person_slot("9" * 30)  # the slot holds 30 characters with the P
    assert person_entries.person_slot("9" * 29) == "P" + "9" * 29


def test_claim_and_repayment_entries() -> None:
    claim = person_entries.person_claim(
        reference="C2", region_code="640100", psn_no="P1", amount_fen=180_000, effective_at=AT
    )
    assert claim.key == "person_claim:C2"
    assert claim.lines == (
        Line("receivable:640100:610:PP1", "D", 180_000),
        Line("expense:640100:610", "C", 180_000),
    )
    repayment = person_entries.person_repayment(
        receipt_no="R1",
        repayment_id=4,
        region_code="640100",
        psn_no="P1",
        amount_fen=100_000,
        effective_at=AT,
    )
    assert repayment.key == "person_repayment:640100:R1"
    assert repayment.lines == (
        Line("bank:640100:610", "D", 100_000),
        Line("receivable:640100:610:PP1", "C", 100_000),
    )
    for bad in (0, -1):
        with pytest.raises(LedgerRuleError):
            person_entries.person_claim(
                reference="C", region_code="640100", psn_no="P1", amount_fen=bad, effective_at=AT
            )


def test_person_instruction_ids() -> None:
    first = bank_rules.person_instruction_id(date(2026, 8, 17), "640100", 42)
    assert first == "P260817-6401610-42"
    assert bank_rules.resend_id(first, 1) == "P260817-6401610-42-R1"
    assert len(bank_rules.person_instruction_id(date(2026, 8, 17), "640100", 10**11 - 1)) <= 30
    assert BankSimulator.describe(first) == {
        "kind": "person",
        "insutype": "610",
        "fixmedins_code": "42",
    }
    assert BankSimulator.describe("M2603-6401310-H001")["kind"] == "monthly"


def test_person_payments_are_wired() -> None:
    wire()
    assert bank._PAYMENT_RESULT_HANDLERS["person_payment"] == person_payments.FLOW.on_payment_result
    assert person_payments.FLOW in ASSISTANCE_PAYABLES  # the 14:30 submission takes them


def test_the_assistance_expense_is_region_level() -> None:
    """A1: `expense:R:610` has no institution or person; the basic funds' expense is kept per
    institution."""
    assert account_code("expense", "640100", "610") == "expense:640100:610"
    assert account_code("expense", "640100", "310", "H001") == "expense:640100:310:H001"
    with pytest.raises(LedgerRuleError):
        account_code("expense", "640100", "610", "H001")
    with pytest.raises(LedgerRuleError):
        account_code("expense", "640100", "310")
