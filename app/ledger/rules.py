"""Pure ledger rules: account names and sides, drafts, canonical hashes. No database."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# SPEC §6: name -> (normal side, per institution)
ACCOUNT_TYPES: dict[str, tuple[str, bool]] = {
    "bank": ("D", False),
    "in_transit": ("D", False),
    "receivable": ("D", True),
    "procurement_advance": ("D", True),
    "payable": ("C", True),
    "deposit_held": ("C", True),
    "appropriation": ("C", False),
    "expense": ("D", True),
}
# Accounts kept per region although their type is kept per institution elsewhere: the
# assistance fund's expense is the region's (SPEC-ASSISTANCE A1, `expense:REGION:610`).
REGION_LEVEL: frozenset[tuple[str, str]] = frozenset({("expense", "610")})
GENESIS_HASH = "0" * 64
POSTINGS_PER_ENTRY_MAX = 64


class LedgerRuleError(ValueError):
    pass


def account_code(
    name: str, region_code: str, insutype: str, fixmedins_code: str | None = None
) -> str:
    """`payable:640100:310:H001`; institution only (and always) for per-institution accounts
    (the assistance fund's expense may also be region-level: `expense:640100:610`)."""
    if name not in ACCOUNT_TYPES:
        raise LedgerRuleError(f"unknown account {name!r}")
    per_institution = ACCOUNT_TYPES[name][1] and (name, insutype) not in REGION_LEVEL
    if per_institution != (fixmedins_code is not None):
        raise LedgerRuleError(f"{name} is {'' if per_institution else 'not '}kept per institution")
    parts = [name, region_code, insutype] + ([fixmedins_code] if fixmedins_code else [])
    return ":".join(parts)


# The accounts an institution's enrolment in a fund opens (issue 20.3): the daily accrual's
# pair, so that a fund's first batch finds them instead of creating them on first use.
ENROLMENT_ACCOUNTS = ("expense", "payable")


def enrolment_accounts(region_code: str, insutype: str, fixmedins_code: str) -> list[str]:
    """The codes of the accounts opened when `fixmedins_code` is enrolled in the fund ledger
    REGION:INSUTYPE (an account kept region-level for that fund, e.g. the assistance fund's
    expense, is left to first use)."""
    return [
        account_code(name, region_code, insutype, fixmedins_code)
        for name in ENROLMENT_ACCOUNTS
        if (name, insutype) not in REGION_LEVEL
    ]


def parse_account_code(code: str) -> tuple[str, str, str, str | None]:
    parts = code.split(":")
    if len(parts) not in (3, 4) or parts[0] not in ACCOUNT_TYPES:
        raise LedgerRuleError(f"not an account code: {code!r}")
    name, region, insutype = parts[0], parts[1], parts[2]
    institution = parts[3] if len(parts) == 4 else None
    account_code(name, region, insutype, institution)  # validates the shape
    return name, region, insutype, institution


def normal_balance(name: str, debit_minus_credit: int) -> int:
    """A balance signed in its account's normal direction."""
    return debit_minus_credit if ACCOUNT_TYPES[name][0] == "D" else -debit_minus_credit


@dataclass(frozen=True)
class Line:
    account: str  # account code
    side: str  # "D" or "C"
    amount_fen: int

    def __post_init__(self) -> None:
        assert self.side in ("D", "C"), "side is D or C"
        assert isinstance(self.amount_fen, int) and self.amount_fen > 0, "postings are > 0 fen"


@dataclass(frozen=True)
class Draft:
    """A journal entry to post. `key` is its idempotency key, derived from the business event."""

    kind: str
    key: str
    region_code: str
    insutype: str
    lines: tuple[Line, ...]
    effective_at: datetime
    business_ref: str
    fixmedins_code: str | None = None
    period: str | None = None
    memo: str = ""
    reverses_entry_id: int | None = None

    def __post_init__(self) -> None:
        check_balanced(self.lines)
        assert self.effective_at.tzinfo is not None, "effective_at is offset-aware"
        assert len(self.key) <= 160 and self.key, "idempotency keys are 1..160 characters"


def check_balanced(lines: Iterable[Line]) -> None:
    lines = lines if isinstance(lines, tuple | list) else list(lines)
    if len(lines) < 2:
        raise LedgerRuleError("an entry has at least two postings")
    if len(lines) > POSTINGS_PER_ENTRY_MAX:
        raise LedgerRuleError(f"an entry has at most {POSTINGS_PER_ENTRY_MAX} postings")
    debit = credit = 0  # one pass: every draft of a batch is checked (10,000 a daily batch)
    for line in lines:
        if line.side == "D":
            debit += line.amount_fen
        else:
            credit += line.amount_fen
    if debit != credit:
        raise LedgerRuleError(f"unbalanced entry: debits {debit} fen, credits {credit} fen")


def check_fund(lines: Iterable[Line], region_code: str, insutype: str) -> None:
    """An entry moves money inside its fund ledger: every account is of its region and fund
    (the hash chain and the balance snapshots are kept per fund ledger)."""
    for line in lines:
        parts = line.account.split(":")
        if parts[1:3] != [region_code, insutype]:
            raise LedgerRuleError(
                f"account {line.account!r} is not of the entry's fund ledger"
                f" {region_code}:{insutype}"
            )


@dataclass
class DraftLines:
    """Builds lines from (debit account, credit account, amount) transfers.

    SPEC §6: a negative amount swaps the sides; a zero amount posts nothing.
    """

    lines: list[Line] = field(default_factory=list)

    def transfer(self, debit: str, credit: str, amount_fen: int) -> DraftLines:
        if amount_fen < 0:
            debit, credit, amount_fen = credit, debit, -amount_fen
        if amount_fen:
            self.lines.append(Line(debit, "D", amount_fen))
            self.lines.append(Line(credit, "C", amount_fen))
        return self

    def split(self, debit: str, credits: list[tuple[str, int]]) -> DraftLines:
        """One debit split over several credits (each credit amount >= 0)."""
        total = sum(amount for _, amount in credits)
        assert all(amount >= 0 for _, amount in credits), "split credits are non-negative"
        if total:
            self.lines.append(Line(debit, "D", total))
            self.lines.extend(Line(account, "C", amount) for account, amount in credits if amount)
        return self

    def result(self) -> tuple[Line, ...]:
        return tuple(self.lines)


def mirror(lines: Iterable[Line]) -> tuple[Line, ...]:
    """The reversing lines: same accounts and amounts, sides swapped."""
    return tuple(
        Line(line.account, "C" if line.side == "D" else "D", line.amount_fen) for line in lines
    )


def request_hash(draft: Draft, reverses_key: str | None) -> str:
    """SHA-256 of the canonical content (unit-separated fields, postings in order)."""
    fields = [
        draft.kind,
        draft.region_code,
        draft.insutype,
        draft.fixmedins_code or "",
        draft.period or "",
        draft.business_ref,
        reverses_key or "",
    ]
    fields.extend(f"{line.account}|{line.side}|{line.amount_fen}" for line in draft.lines)
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def chain_hash(
    prev_hash: str, key: str, request_digest: str, effective_at: datetime, recorded_at: datetime
) -> str:
    """SHA-256 over the previous hash and the entry's canonical form (tamper evidence)."""
    canonical = f"{prev_hash}\x1f{chain_tail(key, request_digest, effective_at, recorded_at)}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_tail(key: str, request_digest: str, effective_at: datetime, recorded_at: datetime) -> str:
    """The entry's part of its chain hash's input, after the previous hash and a separator:
    PostgreSQL's one-call post (migration 0018) hashes `prev_hash || chr(31) || tail`."""
    return "\x1f".join(
        (
            key,
            request_digest,
            effective_at.astimezone(UTC).isoformat(),
            recorded_at.astimezone(UTC).isoformat(),
        )
    )


def chain_hashes(
    prev_hash: str,
    entries: Iterable[tuple[str, str, datetime]],
    recorded_at: datetime,
) -> list[str]:
    """The chain hashes of consecutive entries (key, request digest, effective time) recorded
    at one time, in one pass: each is `chain_hash` of the one before; the times' text is
    computed once per distinct time (a batch's entries mostly share theirs)."""
    recorded = recorded_at.astimezone(UTC).isoformat()
    times: dict[datetime, str] = {}
    hashes = []
    sha256 = hashlib.sha256
    for key, digest, effective_at in entries:
        effective = times.get(effective_at)
        if effective is None:
            effective = times[effective_at] = effective_at.astimezone(UTC).isoformat()
        prev_hash = sha256(
            f"{prev_hash}\x1f{key}\x1f{digest}\x1f{effective}\x1f{recorded}".encode()
        ).hexdigest()
        hashes.append(prev_hash)
    return hashes
