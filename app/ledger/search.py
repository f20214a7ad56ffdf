"""Finding journal entries for a reader (the auditor's console page): by account, document
(business reference), kind, institution and an effective-time range. Reads only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting

ENTRIES_MAX = 500


def find_entries(
    session: Session,
    *,
    account_code: str | None = None,
    business_ref: str | None = None,
    kind: str | None = None,
    fixmedins_code: str | None = None,
    effective_from: datetime | None = None,
    effective_before: datetime | None = None,
    after_id: int | None = None,
    limit: int,
) -> list[JournalEntry]:
    """Entries oldest first (by id) matching every given filter; `effective_from` inclusive,
    `effective_before` exclusive; at most `limit` (≤ ENTRIES_MAX + 1) rows."""
    assert 0 < limit <= ENTRIES_MAX + 1
    query = select(JournalEntry).order_by(JournalEntry.id).limit(limit)
    for value, column in (
        (business_ref, JournalEntry.business_ref),
        (kind, JournalEntry.kind),
        (fixmedins_code, JournalEntry.fixmedins_code),
    ):
        if value:
            query = query.where(column == value)
    if effective_from is not None:
        query = query.where(JournalEntry.effective_at >= effective_from)
    if effective_before is not None:
        query = query.where(JournalEntry.effective_at < effective_before)
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
