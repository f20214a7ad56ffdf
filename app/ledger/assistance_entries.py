"""Journal-entry builders of the assistance fund `610` (SPEC-ASSISTANCE A5-A8), as
`entries.py` builds SPEC §6's: pure, keyed on the business event, never on an amount. Kept
apart from `entries.py` (which is at its size limit); `tests/unit/test_ledger_entries.py`
checks them with the others.

In `610` the expense is the region's (`expense:REGION:610`, `rules.REGION_LEVEL`); the
payable and receivable are the institution's (or the person's, `P<psn_no>`)."""

from __future__ import annotations

from datetime import datetime

from app.ledger.rules import REGION_LEVEL, Draft, DraftLines, account_code

INSUTYPE = "610"


def _entry(
    *,
    kind: str,
    key: str,
    business_ref: str,
    region_code: str,
    holder: str,
    period: str | None,
    transfers: list[tuple[str, str, int]],
    effective_at: datetime,
) -> Draft | None:
    """(debit, credit, amount) transfers between the holder's accounts and the fund's
    region-level ones, a negative amount swapping the sides; None when nothing moves."""

    def code(name: str) -> str:
        level = (name, INSUTYPE) in REGION_LEVEL
        return account_code(name, region_code, INSUTYPE, None if level else holder)

    lines = DraftLines()
    for debit, credit, amount_fen in transfers:
        lines.transfer(code(debit), code(credit), amount_fen)
    result = lines.result()
    if not result:
        return None
    return Draft(
        kind=kind,
        key=key,
        region_code=region_code,
        insutype=INSUTYPE,
        fixmedins_code=holder,
        period=period,
        lines=result,
        effective_at=effective_at,
        business_ref=business_ref,
    )


def assistance_statement_approval(
    *,
    statement_id: int,
    version: int,
    region_code: str,
    fixmedins_code: str,
    period: str,
    gross_fen: int,
    offset_fen: int,
    amount_fen: int,
    effective_at: datetime,
) -> Draft | None:
    """Assistance statement approved (A5): debit `expense:R:610`, credit `payable:R:610:H`,
    the gross (lines − negative lines; < 0 swaps the sides); offset: debit payable, credit
    receivable; amount < 0: debit receivable, credit payable, −amount. One entry, key
    `assistance_statement:ID:vVERSION:approval` (a recomputed statement is a new version);
    nothing to move posts nothing (None)."""
    transfers = [("expense", "payable", gross_fen), ("payable", "receivable", offset_fen)]
    if amount_fen < 0:
        transfers.append(("receivable", "payable", -amount_fen))
    return _entry(
        kind="assistance_statement_approval",
        key=f"assistance_statement:{statement_id}:v{version}:approval",
        business_ref=f"assistance_statement:{statement_id}",
        region_code=region_code,
        holder=fixmedins_code,
        period=period,
        transfers=transfers,
        effective_at=effective_at,
    )
