"""Journal-entry builders of the assistance fund's persons (SPEC-ASSISTANCE A1, A6, A7): the
approval of a payment to a person, a negative clearing result (a claim) and a cash repayment.
Pure, as `app/ledger/entries.py` (kept apart: that module is at its size limit). The person's
accounts carry `P<psn_no>` in the institution slot; `expense:R:610` and `bank:R:610` are
region-level (A1). The payment itself moves as every bank instruction does
(`entries.instruction_sent` and the results) with the payee slot `P<psn_no>`."""

from __future__ import annotations

from datetime import datetime

from app.ledger.rules import Draft, DraftLines, LedgerRuleError, account_code

ASSISTANCE = "610"
PERSON_SLOT_MAX = 30  # the ledger's institution slot (and the bank's payee slot)


def person_slot(psn_no: str) -> str:
    """`P<psn_no>`: the person's place in the institution slot of the 610 accounts (A1)."""
    slot = f"P{psn_no}"
    if not psn_no or len(slot) > PERSON_SLOT_MAX:
        raise LedgerRuleError(f"no person slot for {psn_no!r}: at most 29 characters")
    return slot


def _draft(
    *,
    kind: str,
    key: str,
    business_ref: str,
    region_code: str,
    psn_no: str,
    lines: DraftLines,
    effective_at: datetime,
) -> Draft | None:
    result = lines.result()
    if not result:
        return None
    return Draft(
        kind=kind,
        key=key,
        region_code=region_code,
        insutype=ASSISTANCE,
        fixmedins_code=person_slot(psn_no),
        lines=result,
        effective_at=effective_at,
        business_ref=business_ref,
    )


def person_payment_approval(
    *,
    payment_id: int,
    region_code: str,
    psn_no: str,
    amount_fen: int,
    deducted_fen: int,
    effective_at: datetime,
) -> Draft | None:
    """A payment to a person approved (A6): debit expense, credit payable:P, the amount; the
    deducted part (下期抵扣) debit payable:P, credit receivable:P. One entry, key
    `person_payment:ID:approval`; an amount of 0 posts nothing (None)."""
    if not 0 <= deducted_fen <= amount_fen:
        raise LedgerRuleError(f"person payment {payment_id}: deducted outside 0..amount")
    slot = person_slot(psn_no)
    lines = DraftLines()
    if amount_fen:
        lines.transfer(
            account_code("expense", region_code, ASSISTANCE),
            account_code("payable", region_code, ASSISTANCE, slot),
            amount_fen,
        )
    if deducted_fen:
        lines.transfer(
            account_code("payable", region_code, ASSISTANCE, slot),
            account_code("receivable", region_code, ASSISTANCE, slot),
            deducted_fen,
        )
    return _draft(
        kind="person_payment_approval",
        key=f"person_payment:{payment_id}:approval",
        business_ref=f"person_payment:{payment_id}",
        region_code=region_code,
        psn_no=psn_no,
        lines=lines,
        effective_at=effective_at,
    )


def person_claim(
    *, reference: str, region_code: str, psn_no: str, amount_fen: int, effective_at: datetime
) -> Draft:
    """A negative clearing result (A7 "< 0"): debit receivable:P, credit expense, what the
    person owes (positive). Key `person_claim:REFERENCE` (the clearing's reference)."""
    if amount_fen <= 0:
        raise LedgerRuleError(f"claim {reference}: a claim is > 0 fen")
    slot = person_slot(psn_no)
    lines = DraftLines().transfer(
        account_code("receivable", region_code, ASSISTANCE, slot),
        account_code("expense", region_code, ASSISTANCE),
        amount_fen,
    )
    draft = _draft(
        kind="person_claim",
        key=f"person_claim:{reference}",
        business_ref=f"person_claim:{reference}",
        region_code=region_code,
        psn_no=psn_no,
        lines=lines,
        effective_at=effective_at,
    )
    assert draft is not None
    return draft


def person_repayment(
    *,
    receipt_no: str,
    repayment_id: int,
    region_code: str,
    psn_no: str,
    amount_fen: int,
    effective_at: datetime,
) -> Draft:
    """A cash repayment by a person (现金追款): debit bank, credit receivable:P, the amount.
    Key `person_repayment:REGION:RECEIPT_NO`."""
    if amount_fen <= 0:
        raise LedgerRuleError(f"repayment {receipt_no}: a repayment is > 0 fen")
    lines = DraftLines().transfer(
        account_code("bank", region_code, ASSISTANCE),
        account_code("receivable", region_code, ASSISTANCE, person_slot(psn_no)),
        amount_fen,
    )
    draft = _draft(
        kind="person_repayment",
        key=f"person_repayment:{region_code}:{receipt_no}",
        business_ref=f"person_repayment:{repayment_id}",
        region_code=region_code,
        psn_no=psn_no,
        lines=lines,
        effective_at=effective_at,
    )
    assert draft is not None
    return draft
