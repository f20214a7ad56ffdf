"""Pure rules of bank reconciliation: matching a statement's entries to the service's
documents, and the balance reconciliation (余额调节表). No database, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PAID_STATUSES = ("SUCCESS", "RETURNED")

MATCHED = "matched"
UNMATCHED = "unmatched"
AMOUNT_DIFFERENCE = "amount_difference"
DUPLICATE = "duplicate"
OUTCOMES = (MATCHED, UNMATCHED, AMOUNT_DIFFERENCE, DUPLICATE)


@dataclass(frozen=True)
class Entry:
    line_no: int
    direction: str  # D money out, C money in
    amount_fen: int
    business_ref: str


@dataclass(frozen=True)
class Candidates:
    """What the service knows, per fund ledger: instructions (id -> (amount, status)),
    appropriations (reference -> amount), repayments (receipt no -> (id, amount)),
    procurement advances (reference -> (id, amount))."""

    instructions: Mapping[str, tuple[int, str]]
    appropriations: Mapping[str, int]
    repayments: Mapping[str, tuple[int, int]]
    advances: Mapping[str, tuple[int, int]]


@dataclass(frozen=True)
class Match:
    line_no: int
    kind: str | None  # instruction | return | appropriation | repayment | procurement_advance
    ledger_ref: str | None
    outcome: str
    expected_fen: int | None


def match_entries(
    entries: Sequence[Entry], known: Candidates, taken: Iterable[tuple[str, str]] = ()
) -> list[Match]:
    """Each debit to a paid instruction (or a procurement advance paid at the counter), each
    credit to a returned instruction (退票), an appropriation or a repayment, by the business
    reference (业务参考号). `taken`: (direction, ledger_ref) already matched by other
    statements; a second entry for the same document is a duplicate."""
    seen = set(taken)
    matches = []
    for entry in entries:
        assert entry.direction in ("D", "C"), entry
        assert entry.amount_fen > 0, entry
        kind, ref, expected = _find(entry, known)
        if ref is None:
            matches.append(Match(entry.line_no, None, None, UNMATCHED, None))
            continue
        key = (entry.direction, ref)
        if key in seen:
            outcome = DUPLICATE
        elif expected != entry.amount_fen:
            outcome = AMOUNT_DIFFERENCE
        else:
            outcome = MATCHED
        seen.add(key)
        matches.append(Match(entry.line_no, kind, ref, outcome, expected))
    return matches


def _find(entry: Entry, known: Candidates) -> tuple[str | None, str | None, int | None]:
    ref = entry.business_ref
    instruction = known.instructions.get(ref)
    if entry.direction == "D":
        if instruction is not None and instruction[1] in PAID_STATUSES:
            return "instruction", f"instruction:{ref}", instruction[0]
        if ref in known.advances:
            advance_id, amount = known.advances[ref]
            return "procurement_advance", f"procurement_advance:{advance_id}", amount
        return None, None, None
    if instruction is not None and instruction[1] == "RETURNED":
        return "return", f"instruction:{ref}", instruction[0]
    if ref in known.appropriations:
        return "appropriation", f"appropriation:{ref}", known.appropriations[ref]
    if ref in known.repayments:
        repayment_id, amount = known.repayments[ref]
        return "repayment", f"repayment:{repayment_id}", amount
    return None, None, None


def signed(direction: str, amount_fen: int) -> int:
    """Money in is positive (a credit on the statement, a debit of the `bank` account)."""
    return amount_fen if direction == "C" else -amount_fen


def adds_up(opening_fen: int, closing_fen: int, entries: Iterable[Entry]) -> bool:
    return opening_fen + sum(signed(e.direction, e.amount_fen) for e in entries) == closing_fen


@dataclass(frozen=True)
class BalanceReconciliation:
    """余额调节表: the bank's closing balance less what the bank booked and the ledger has
    not (yet), plus what the ledger booked and the bank has not, is the ledger's balance;
    what is left over is unexplained."""

    bank_closing_fen: int
    bank_only_fen: int
    ledger_only_fen: int
    ledger_balance_fen: int

    @property
    def adjusted_bank_fen(self) -> int:
        return self.bank_closing_fen - self.bank_only_fen + self.ledger_only_fen

    @property
    def unexplained_fen(self) -> int:
        return self.adjusted_bank_fen - self.ledger_balance_fen
