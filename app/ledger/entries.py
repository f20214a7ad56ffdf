"""Journal-entry builders: one pure function per posting rule of SPEC §6 (STYLE.md 19).

Each builder takes plain values (amounts in integer fen, codes, dates, ids) and returns the
`Draft` with its idempotency key and `kind`; callers never assemble accounts or keys by hand.
No database, no clock: `effective_at` is passed in.

Keys are derived from the business event only, never from an amount, so replaying an event
meets its first entry (SPEC §6). They are stored in existing databases: never change one.

Amounts follow the site each builder was taken from:
- a negative amount swaps the sides (SPEC §6), through `DraftLines.transfer`;
- a daily line or revocation, a statement or a clearing that moves nothing posts nothing: the
  builder returns None;
- a bank instruction's amount is > 0 (only non-zero amounts are sent): anything else raises;
- an advance, a repayment or an appropriation of zero raises (`Draft` holds two postings at
  least); their routers refuse zero before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from app.ledger.rules import Draft, DraftLines, LedgerRuleError, Line, account_code, mirror

InstructionEvent = Literal["success", "failed", "returned"]


# --- daily disbursement (SPEC §3) -------------------------------------------------------------


def daily_accrual(
    *,
    region_code: str,
    insutype: str,
    business_date: date,
    fixmedins_code: str,
    line_id: int,
    fund_total_fen: int,
    effective_at: datetime,
) -> Draft | None:
    """Daily batch generated, each line: debit expense, credit payable, Σ fund amounts of its
    settlements. Key `daily:REGION:INSUTYPE:DATE:INSTITUTION:accrual`; a zero line posts
    nothing (None). Daily entries carry no period (a batch's settlements may span several)."""
    return _institution_entry(
        kind="daily_accrual",
        key=_daily_key(region_code, insutype, business_date, fixmedins_code, "accrual"),
        business_ref=f"daily_line:{line_id}",
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=None,
        transfers=[("expense", "payable", fund_total_fen)],
        effective_at=effective_at,
    )


def daily_revocation(
    *,
    region_code: str,
    insutype: str,
    business_date: date,
    fixmedins_code: str,
    batch_id: int,
    revoked_fen: int,
    effective_at: datetime,
) -> Draft | None:
    """Daily batch generated, settlements revoked after batching since the last batch: debit
    payable, credit expense, their fund amounts (`revoked_fen`, positive). Key
    `daily:REGION:INSUTYPE:DATE:INSTITUTION:revoked`; zero posts nothing (None)."""
    return _institution_entry(
        kind="daily_revocation",
        key=_daily_key(region_code, insutype, business_date, fixmedins_code, "revoked"),
        business_ref=f"daily_batch:{batch_id}:revocations",
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=None,
        transfers=[("payable", "expense", revoked_fen)],
        effective_at=effective_at,
    )


def _daily_key(
    region_code: str, insutype: str, business_date: date, fixmedins_code: str, event: str
) -> str:
    return f"daily:{region_code}:{insutype}:{business_date.isoformat()}:{fixmedins_code}:{event}"


def _institution_entry(
    *,
    kind: str,
    key: str,
    business_ref: str,
    region_code: str,
    insutype: str,
    fixmedins_code: str,
    period: str | None,
    transfers: list[tuple[str, str, int]],
    effective_at: datetime,
) -> Draft | None:
    """An entry between one institution's accounts: (debit, credit, amount) transfers in
    order, a negative amount swapping the sides; None when nothing moves."""
    lines = DraftLines()
    for debit, credit, amount_fen in transfers:
        lines.transfer(
            account_code(debit, region_code, insutype, fixmedins_code),
            account_code(credit, region_code, insutype, fixmedins_code),
            amount_fen,
        )
    result = lines.result()
    if not result:
        return None
    return Draft(
        kind=kind,
        key=key,
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=period,
        lines=result,
        effective_at=effective_at,
        business_ref=business_ref,
    )


# --- bank instructions (SPEC §6: sent, SUCCESS, FAILED, RETURNED) ------------------------------


@dataclass(frozen=True)
class InstructionRule:
    """A posting rule of a bank instruction's life: the event names its key and kind
    (`instruction:ID:EVENT`, `instruction_EVENT`), the amount is the instruction's."""

    event: str
    debit: str  # account name; `payable` is the institution's, the others the fund's
    credit: str

    def __call__(
        self,
        *,
        instruction_id: str,
        region_code: str,
        insutype: str,
        fixmedins_code: str,
        period: str | None,
        amount_fen: int,
        effective_at: datetime,
    ) -> Draft:
        if amount_fen <= 0:
            raise LedgerRuleError(f"instruction {instruction_id}: an instruction moves > 0 fen")

        def code(name: str) -> str:
            institution = fixmedins_code if name == "payable" else None
            return account_code(name, region_code, insutype, institution)

        return Draft(
            kind=f"instruction_{self.event}",
            key=f"instruction:{instruction_id}:{self.event}",
            region_code=region_code,
            insutype=insutype,
            fixmedins_code=fixmedins_code,
            period=period,
            lines=DraftLines().transfer(code(self.debit), code(self.credit), amount_fen).result(),
            effective_at=effective_at,
            business_ref=f"instruction:{instruction_id}",
        )


# Instruction sent (saved in the outbox, SPEC §3): payable -> in_transit.
instruction_sent = InstructionRule("sent", debit="payable", credit="in_transit")
# Result SUCCESS: in_transit -> bank, the receipt amount (checked equal to the instruction's).
instruction_success = InstructionRule("success", debit="in_transit", credit="bank")
# Result FAILED: in_transit -> payable (owed again).
instruction_failed = InstructionRule("failed", debit="in_transit", credit="payable")
# RETURNED after SUCCESS: bank -> payable (a return is of the whole instruction).
instruction_returned = InstructionRule("returned", debit="bank", credit="payable")
# A bank result's rule by its event.
INSTRUCTION_RESULTS: dict[InstructionEvent, InstructionRule] = {
    "success": instruction_success,
    "failed": instruction_failed,
    "returned": instruction_returned,
}


# --- documents: monthly statements, annual clearings (SPEC §4, §5) ----------------------------


def statement_approval(
    *,
    statement_id: int,
    version: int,
    region_code: str,
    insutype: str,
    fixmedins_code: str,
    period: str,
    audit_fen: int,
    deposit_fen: int,
    procurement_fen: int,
    offset_fen: int,
    net_fen: int,
    effective_at: datetime,
) -> Draft | None:
    """Statement approved: debit payable, credit expense (audit deductions), deposit_held,
    procurement_advance, receivable (offset), each component; with net < 0 also debit
    receivable, credit payable, −net. One entry, key `statement:ID:vVERSION:approval` (a
    recomputed statement is a new version); nothing to move posts nothing (None)."""
    transfers = [
        ("payable", "expense", audit_fen),
        ("payable", "deposit_held", deposit_fen),
        ("payable", "procurement_advance", procurement_fen),
        ("payable", "receivable", offset_fen),
    ]
    if net_fen < 0:
        transfers.append(("receivable", "payable", -net_fen))
    return _institution_entry(
        kind="statement_approval",
        key=f"statement:{statement_id}:v{version}:approval",
        business_ref=f"statement:{statement_id}",
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=period,
        transfers=transfers,
        effective_at=effective_at,
    )


def clearing_approval(
    *,
    clearing_id: int,
    version: int,
    year: int,
    region_code: str,
    insutype: str,
    fixmedins_code: str,
    clearing_amount_fen: int,
    approved_fund_fen: int,
    deposit_held_fen: int,
    forfeited_fen: int,
    offset_fen: int,
    actual_fen: int,
    effective_at: datetime,
) -> Draft | None:
    """Clearing approved: debit expense, credit payable, K = clearing_amount − approved_fund;
    deposit release: debit deposit_held, credit payable (held − forfeited) and expense
    (forfeited); offset: debit payable, credit receivable; actual < 0: debit receivable,
    credit payable, −actual. One entry, key `clearing:ID:vVERSION:approval`, period
    `YEAR-12`; nothing to move posts nothing (None)."""
    transfers = [
        ("expense", "payable", clearing_amount_fen - approved_fund_fen),
        ("deposit_held", "payable", deposit_held_fen - forfeited_fen),
        ("deposit_held", "expense", forfeited_fen),
        ("payable", "receivable", offset_fen),
    ]
    if actual_fen < 0:
        transfers.append(("receivable", "payable", -actual_fen))
    return _institution_entry(
        kind="clearing_approval",
        key=f"clearing:{clearing_id}:v{version}:approval",
        business_ref=f"clearing:{clearing_id}",
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=f"{year}-12",
        transfers=transfers,
        effective_at=effective_at,
    )


# --- money recorded by the operator (SPEC §6: advance, repayment, appropriation) --------------


def procurement_advance(
    *,
    reference: str,
    advance_id: int,
    region_code: str,
    insutype: str,
    fixmedins_code: str,
    period: str,
    amount_fen: int,
    effective_at: datetime,
) -> Draft:
    """Procurement advance paid to suppliers (recorded by the operator): debit
    procurement_advance, credit bank, the amount. Key `procurement_advance:REFERENCE` (the
    reference is unique across fund ledgers)."""
    return Draft(
        kind="procurement_advance",
        key=f"procurement_advance:{reference}",
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=period,
        lines=DraftLines()
        .transfer(
            account_code("procurement_advance", region_code, insutype, fixmedins_code),
            account_code("bank", region_code, insutype),
            amount_fen,
        )
        .result(),
        effective_at=effective_at,
        business_ref=f"procurement_advance:{advance_id}",
    )


def repayment(
    *,
    receipt_no: str,
    repayment_id: int,
    region_code: str,
    insutype: str,
    fixmedins_code: str,
    amount_fen: int,
    effective_at: datetime,
) -> Draft:
    """Cash repayment by an institution: debit bank, credit receivable, the amount. Key
    `repayment:REGION:INSUTYPE:RECEIPT_NO` (the incoming receipt, unique per fund ledger)."""
    return Draft(
        kind="repayment",
        key=f"repayment:{region_code}:{insutype}:{receipt_no}",
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        lines=DraftLines()
        .transfer(
            account_code("bank", region_code, insutype),
            account_code("receivable", region_code, insutype, fixmedins_code),
            amount_fen,
        )
        .result(),
        effective_at=effective_at,
        business_ref=f"repayment:{repayment_id}",
    )


def appropriation(
    *,
    reference: str,
    region_code: str,
    insutype: str,
    amount_fen: int,
    effective_at: datetime,
) -> Draft:
    """Appropriation into the expenditure account: debit bank, credit appropriation, the
    amount. Key `appropriation:REGION:INSUTYPE:REFERENCE`."""
    return Draft(
        kind="appropriation",
        key=f"appropriation:{region_code}:{insutype}:{reference}",
        region_code=region_code,
        insutype=insutype,
        lines=DraftLines()
        .transfer(
            account_code("bank", region_code, insutype),
            account_code("appropriation", region_code, insutype),
            amount_fen,
        )
        .result(),
        effective_at=effective_at,
        business_ref=f"appropriation:{reference}",
    )


# --- corrections (SPEC §6: "a mistake is corrected by a reversing entry") ---------------------


def reversal(
    *,
    entry_id: int,
    entry_key: str,
    region_code: str,
    insutype: str,
    fixmedins_code: str | None,
    period: str | None,
    business_ref: str,
    lines: tuple[Line, ...],
    reason: str,
    effective_at: datetime,
) -> Draft:
    """The mirror of a posted entry (`lines` are the original's): same accounts and amounts,
    sides swapped, tagged like the original. Key `reversal:ORIGINAL_KEY` cut at 160
    characters. Used by `ledger.service.reverse`."""
    return Draft(
        kind="reversal",
        key=f"reversal:{entry_key}"[:160],
        region_code=region_code,
        insutype=insutype,
        fixmedins_code=fixmedins_code,
        period=period,
        lines=mirror(lines),
        effective_at=effective_at,
        business_ref=business_ref,
        memo=reason,
        reverses_entry_id=entry_id,
    )


# SPEC §6's posting rules (the event column, verbatim) -> the builder that posts each.
# Several rows of one document are one entry: its builder covers them all.
RULES: dict[str, Callable[..., Any]] = {
    "daily batch generated: each line": daily_accrual,
    "daily batch generated: settlements revoked after batching, since the last batch": (
        daily_revocation
    ),
    "instruction sent": instruction_sent,
    "result SUCCESS": instruction_success,
    "result FAILED": instruction_failed,
    "RETURNED after SUCCESS": instruction_returned,
    "statement approved: audit, deposit, procurement, offset": statement_approval,
    "statement approved with net < 0": statement_approval,
    "clearing approved: K = clearing_amount − approved_fund": clearing_approval,
    "clearing approved: deposit release": clearing_approval,
    "clearing approved: offset; actual < 0": clearing_approval,
    "procurement advance paid to suppliers (outside the service, recorded by the operator)": (
        procurement_advance
    ),
    "cash repayment by an institution": repayment,
    "appropriation into the expenditure account": appropriation,
}


def prepayment_received(
    *, region_code: str, year: int, prepayment_id: int, transfer_fen: int, effective_at: datetime
) -> Draft | None:
    """SPEC-ASSISTANCE A8, the year's prepayment (预付款) received into the 610 fund: debit
    bank, credit appropriation. Key `prepayment:REGION:610:YEAR`; 0 posts nothing (None)."""
    if transfer_fen < 0:
        raise LedgerRuleError("a prepayment transfer is >= 0")
    bank, source = (account_code(name, region_code, "610") for name in ("bank", "appropriation"))
    if transfer_fen == 0:
        return None
    return Draft(
        kind="prepayment",
        key=f"prepayment:{region_code}:610:{year}",
        region_code=region_code,
        insutype="610",
        lines=DraftLines().transfer(bank, source, transfer_fen).result(),
        effective_at=effective_at,
        business_ref=f"prepayment:{prepayment_id}",
    )
