"""The statement of one ledger account over a range of business dates (往来对账单): the
balance before the first day, every posting of the range in order with the balance after it,
the balance after the last day. Between a hospital and the fund it is read from the
institution's accounts (`payable:…:H001` above all: what the fund owes it).

- The range is whole days in Shanghai time, `first` 00:00 to `last` + 1 00:00, by the
  entries' effective time (which is their posting time), at most 366 days.
- Order: effective time, entry id, posting id. A movement's `position` (1-based) in that order
  is the page cursor: the ledger is append-only and entries are effective when posted, so a
  range's positions never move once the range has ended.
- Balances are signed in the account's normal direction (SPEC §6), as the balance API gives
  them: opening + Σ movements (debit − credit, turned to the normal side) = closing.
- Set-based: one aggregate for the range's totals, one windowed query for the page (the
  running sum over the whole range, the page cut after it), the receipt numbers joined from the
  payment instruction an entry references (`instruction:<id>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bank.models import PaymentInstruction
from app.clock import at_shanghai
from app.errors import Invalid, NotFound
from app.ledger import rules
from app.ledger import service as ledger
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting

STATEMENT_DAYS_MAX = 366
INSTRUCTION_REF = "instruction:"
_ONE_TICK = timedelta(microseconds=1)  # the storage's resolution


@dataclass(frozen=True)
class Movement:
    """One posting of the range and the account's balance after it (normal direction)."""

    position: int  # 1-based, in the range's order
    entry_id: int
    effective_at: datetime
    kind: str
    business_ref: str
    period: str | None
    memo: str
    reverses_entry_id: int | None
    side: str  # "D" | "C"
    amount_fen: int  # > 0
    balance_fen: int
    instruction_id: str | None  # the payment instruction the entry references
    receipt_no: str | None  # that instruction's bank receipt, once paid

    @property
    def debit_fen(self) -> int:
        return self.amount_fen if self.side == "D" else 0

    @property
    def credit_fen(self) -> int:
        return self.amount_fen if self.side == "C" else 0


@dataclass(frozen=True)
class AccountStatement:
    code: str
    name: str
    fixmedins_code: str | None
    normal_side: str
    first: date
    last: date
    opening_fen: int  # balance before `first`, normal direction
    closing_fen: int  # balance after `last`
    debits_fen: int  # Σ debit postings of the range
    credits_fen: int
    movements_count: int  # in the whole range
    movements: list[Movement]  # one page
    more: bool  # movements after this page

    def __post_init__(self) -> None:
        change = self.debits_fen - self.credits_fen
        assert self.closing_fen == self.opening_fen + rules.normal_balance(self.name, change)


def range_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, last + 1 00:00) in Shanghai; 422 naming `to` for a bad range."""
    if last < first or (last - first).days >= STATEMENT_DAYS_MAX:
        raise Invalid.field(
            "to", "date_range", f"from ≤ to, at most {STATEMENT_DAYS_MAX} days in one statement"
        )
    return at_shanghai(first, time(0)), at_shanghai(last + timedelta(days=1), time(0))


def _account(session: Session, code: str, actor: Principal) -> LedgerAccount:
    """The account, as a hospital may see it (only its own institution's: else 404)."""
    try:
        _, _, _, institution = rules.parse_account_code(code)
    except rules.LedgerRuleError:
        raise NotFound(f"no ledger account {code!r}") from None
    if actor.is_hospital and institution != actor.fixmedins_code:
        raise NotFound(f"no ledger account {code!r}")
    account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if account is None:
        raise NotFound(f"no ledger account {code!r}")
    return account


def statement(
    session: Session,
    code: str,
    first: date,
    last: date,
    *,
    actor: Principal,
    after_position: int | None = None,
    limit: int = 100,
) -> AccountStatement:
    """The account's statement for [first, last]; the page holds the movements after
    `after_position`, at most `limit` (≤ 500 at the edge)."""
    assert 0 < limit <= 100_000
    start, end = range_bounds(first, last)
    account = _account(session, code, actor)
    in_range = and_(
        LedgerPosting.account_id == account.id,
        JournalEntry.effective_at >= start,
        JournalEntry.effective_at < end,
    )
    count, debits, credits = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(_sided("D")), 0),
            func.coalesce(func.sum(_sided("C")), 0),
        )
        .select_from(LedgerPosting)
        .join(JournalEntry, JournalEntry.id == LedgerPosting.entry_id)
        .where(in_range)
    ).one()
    opening = ledger.balance_as_of(session, code, start - _ONE_TICK)
    closing = opening + rules.normal_balance(account.name, int(debits) - int(credits))
    rows = _page(session, account, start, end, opening, after_position or 0, limit + 1)
    return AccountStatement(
        code=account.code,
        name=account.name,
        fixmedins_code=account.fixmedins_code,
        normal_side=account.normal_side,
        first=first,
        last=last,
        opening_fen=opening,
        closing_fen=closing,
        debits_fen=int(debits),
        credits_fen=int(credits),
        movements_count=int(count),
        movements=rows[:limit],
        more=len(rows) > limit,
    )


def _sided(side: str) -> ColumnElement[int]:
    return case((LedgerPosting.side == side, LedgerPosting.amount_fen), else_=0)


def _page(
    session: Session,
    account: LedgerAccount,
    start: datetime,
    end: datetime,
    opening_fen: int,
    after: int,
    limit: int,
) -> list[Movement]:
    """The range's movements after position `after`, with the running balance: a window over
    the whole range (bounded by its days), the page cut outside it."""
    order = (JournalEntry.effective_at, JournalEntry.id, LedgerPosting.id)
    signed = case(
        (LedgerPosting.side == "D", LedgerPosting.amount_fen), else_=-LedgerPosting.amount_fen
    )
    ranged = (
        select(
            func.row_number().over(order_by=order).label("position"),
            func.sum(signed).over(order_by=order, rows=(None, 0)).label("change"),
            JournalEntry.id.label("entry_id"),
            JournalEntry.effective_at,
            JournalEntry.kind,
            JournalEntry.business_ref,
            JournalEntry.period,
            JournalEntry.memo,
            JournalEntry.reverses_entry_id,
            LedgerPosting.side,
            LedgerPosting.amount_fen,
        )
        .join(JournalEntry, JournalEntry.id == LedgerPosting.entry_id)
        .where(
            LedgerPosting.account_id == account.id,
            JournalEntry.effective_at >= start,
            JournalEntry.effective_at < end,
        )
        .subquery()
    )
    referenced = and_(
        ranged.c.business_ref.startswith(INSTRUCTION_REF),
        PaymentInstruction.instruction_id
        == func.substr(ranged.c.business_ref, len(INSTRUCTION_REF) + 1),
    )
    rows = session.execute(
        select(ranged, PaymentInstruction.instruction_id, PaymentInstruction.receipt_no)
        .outerjoin(PaymentInstruction, referenced)
        .where(ranged.c.position > after)
        .order_by(ranged.c.position)
        .limit(limit)
    ).all()
    return [
        Movement(
            position=int(row.position),
            entry_id=row.entry_id,
            effective_at=row.effective_at,
            kind=row.kind,
            business_ref=row.business_ref,
            period=row.period,
            memo=row.memo,
            reverses_entry_id=row.reverses_entry_id,
            side=row.side,
            amount_fen=row.amount_fen,
            balance_fen=opening_fen + rules.normal_balance(account.name, int(row.change)),
            instruction_id=row.instruction_id,
            receipt_no=row.receipt_no,
        )
        for row in rows
    ]
