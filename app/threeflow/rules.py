"""Pure arithmetic of the three-flow check (三流核对): what the documents say an
institution's `payable` is, and what they say it was owed. No database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Documents:
    """An institution's documents in one fund ledger, summed (fen)."""

    lines_fund: int = 0  # Σ fund totals of its daily lines (accrued when generated)
    reversed_revocations: int = 0  # Σ fund amounts of revocations reversed by a later batch
    sent: int = 0  # Σ instruction amounts (every instruction ever created)
    sent_back: int = 0  # Σ amounts of instructions FAILED or RETURNED (owed again)
    received: int = 0  # Σ amounts of instructions SUCCESS (the bank paid, it stayed)
    awaiting: int = 0  # Σ amounts of instructions QUEUED, ACCEPTED or UNKNOWN
    statements_taken: int = 0  # approved statements: Σ audit + deposit + procurement + offset
    statements_negative: int = 0  # approved statements: Σ −net where net < 0
    statements_fund: int = 0  # approved statements: Σ fund_pay
    statements_owed: int = 0  # approved statements: Σ ratio_amount − audit
    statements_procurement: int = 0  # approved statements: Σ procurement
    clearings_added: int = 0  # approved clearings: Σ (clearing − approved_fund + held − forfeited)
    clearings_offset: int = 0  # approved clearings: Σ offset
    clearings_negative: int = 0  # approved clearings: Σ −actual where actual < 0
    clearings_owed: int = 0  # approved clearings: Σ gross
    repayments: int = 0  # Σ cash repaid


def payable_of(d: Documents) -> int:
    """SPEC §6's postings on `payable`, from the documents: accruals less reversals, less
    what was sent (plus what came back), less what approved statements took, plus what
    approved clearings added; negative documents turn into receivables."""
    return (
        d.lines_fund
        - d.reversed_revocations
        - d.sent
        + d.sent_back
        - d.statements_taken
        + d.statements_negative
        + d.clearings_added
        - d.clearings_offset
        + d.clearings_negative
    )


def owed_of(d: Documents, *, payable_fen: int, receivable_fen: int) -> int:
    """What the documents said the institution was owed, as it stands now: the approved
    statements' ratio amount less audit, the approved clearings' gross, the daily accruals of
    periods no approved statement covers yet; less what is still payable or awaiting the
    bank, plus what it still owes back (open receivable)."""
    not_stated = d.lines_fund - d.reversed_revocations - d.statements_fund
    return (
        d.statements_owed
        + d.clearings_owed
        + not_stated
        - payable_fen
        - d.awaiting
        + receivable_fen
    )


def received_net(d: Documents) -> int:
    """Money received plus procurement advances (taken by approved statements) minus cash
    repayments."""
    return d.received + d.statements_procurement - d.repayments
