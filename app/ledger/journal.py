"""Reading journal entries: one entry, their lines, a filtered page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import Line

IN_LIST_CHUNK = 900  # below SQLite's default variable limit per statement


def _chunks(items: Sequence[object], size: int = IN_LIST_CHUNK) -> Iterator[list[object]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def get_entry(session: Session, entry_id: int) -> JournalEntry:
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"no journal entry {entry_id}")
    return entry


def entry_lines(session: Session, entry_ids: Sequence[int]) -> dict[int, list[Line]]:
    lines: dict[int, list[Line]] = defaultdict(list)
    for chunk in _chunks(list(entry_ids)):
        rows = session.execute(
            select(
                LedgerPosting.entry_id,
                LedgerAccount.code,
                LedgerPosting.side,
                LedgerPosting.amount_fen,
            )
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerPosting.entry_id.in_(chunk))
            .order_by(LedgerPosting.entry_id, LedgerPosting.id)
        )
        for entry_id, code, side, amount in rows:
            lines[entry_id].append(Line(code, side, amount))
    return lines


def list_entries(
    session: Session,
    *,
    region_code: str | None,
    insutype: str | None,
    fixmedins_code: str | None,
    kind: str | None,
    period: str | None,
    account_code: str | None,
    after_id: int | None,
    limit: int,
) -> list[JournalEntry]:
    query = select(JournalEntry).order_by(JournalEntry.id).limit(limit)
    filters = [
        (region_code, JournalEntry.region_code),
        (insutype, JournalEntry.insutype),
        (fixmedins_code, JournalEntry.fixmedins_code),
        (kind, JournalEntry.kind),
        (period, JournalEntry.period),
    ]
    for value, column in filters:
        if value:
            query = query.where(column == value)
    if account_code:
        query = query.where(
            JournalEntry.id.in_(
                select(LedgerPosting.entry_id)
                .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
                .where(LedgerAccount.code == account_code)
            )
        )
    if after_id is not None:
        query = query.where(JournalEntry.id > after_id)
    return list(session.scalars(query))
