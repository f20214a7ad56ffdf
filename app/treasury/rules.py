"""Pure rules of the funds check (docs/rules.md "Funds check"). No database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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


# --- the assistance fund: one document at a time, in approval order (SPEC-ASSISTANCE A8, A10) --


@dataclass(frozen=True)
class Candidate:
    """A 610 payable document ready to be sent: `key` identifies it (the flow's place in
    `ASSISTANCE_PAYABLES`, the document id); `rank` is the flow's place (statements before
    person payments approved in the same minute)."""

    key: tuple[int, int]
    approved_at: datetime
    rank: int
    fixmedins_code: str
    amount_fen: int


def approval_order(candidate: Candidate) -> tuple[datetime, int, str, datetime, tuple[int, int]]:
    """A10 "Funds check order": by approval time (to the minute), statements before person
    payments of the same minute, by hospital code; then the exact time and the key."""
    minute = candidate.approved_at.replace(second=0, microsecond=0)
    return (minute, candidate.rank, candidate.fixmedins_code, candidate.approved_at, candidate.key)


@dataclass(frozen=True)
class Selection:
    """Which documents go now (each covered by what is left) and which wait."""

    available_fen: int
    sent: tuple[Candidate, ...]
    waiting: tuple[Candidate, ...]

    @property
    def sent_fen(self) -> int:
        return sum(c.amount_fen for c in self.sent)

    @property
    def waiting_fen(self) -> int:
        return sum(c.amount_fen for c in self.waiting)

    @property
    def shortfall_fen(self) -> int:
        """What must come in for the waiting ones to go too (0 when none waits); as in
        `FundsCheck`, a balance already below zero is needed too."""
        if not self.waiting:
            return 0
        return self.waiting_fen - (self.available_fen - self.sent_fen)


def select_covered(candidates: Iterable[Candidate], available_fen: int) -> Selection:
    """In approval order, each document is sent when what is left of the account (its balance
    less what was sent) covers it whole; otherwise it waits, and a later smaller one may
    still go (each is checked on its own, none is split)."""
    left = available_fen
    sent: list[Candidate] = []
    waiting: list[Candidate] = []
    for candidate in sorted(candidates, key=approval_order):
        assert candidate.amount_fen > 0, "only amounts > 0 are sent"
        if candidate.amount_fen <= left:
            sent.append(candidate)
            left -= candidate.amount_fen
        else:
            waiting.append(candidate)
    return Selection(available_fen, tuple(sent), tuple(waiting))
