"""Pure rules of the funds check (docs/rules.md "Funds check"). No database."""

from __future__ import annotations

from dataclasses import dataclass

FUNDS_CHECK_MODES = ("warn", "block")


@dataclass(frozen=True)
class FundsCheck:
    """One fund ledger's submission against its expenditure account."""

    mode: str  # warn | block
    available_fen: int  # bank + in_transit in the ledger before the submission
    due_fen: int  # what the submission is about to send
    payments: int

    @property
    def shortfall_fen(self) -> int:
        """The amount needed for the account to cover the submission (0 when it does): a
        balance already below zero (payments sent short in warn mode) is needed too."""
        return max(0, self.due_fen - self.available_fen) if self.due_fen > 0 else 0

    @property
    def short(self) -> bool:
        return self.shortfall_fen > 0

    @property
    def hold(self) -> bool:
        """Block mode holds a short submission whole: no institution is paid before another."""
        return self.short and self.mode == "block"


def available(bank_fen: int, in_transit_fen: int) -> int:
    """What the expenditure account can still pay: its ledger balance less what was sent and
    awaits a result (`in_transit` carries that as a credit balance)."""
    return bank_fen + in_transit_fen
