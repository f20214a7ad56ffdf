"""Reads for a reader who pages (the auditor's console pages): journal entries by account,
document (business reference), kind, institution and an effective-time range; account
balances a page at a time. Reads only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ledger import rules, snapshots
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.service import AccountBalance

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


ACCOUNTS_MAX = 500


def balances_page(
    session: Session,
    *,
    region_code: str | None = None,
    insutype: str | None = None,
    fixmedins_code: str | None = None,
    name: str | None = None,
    as_of: datetime | None = None,
    after_code: str | None = None,
    limit: int,
) -> list[AccountBalance]:
    """A page of accounts by code with their balances: the maintained balance, or as of a
    time (the latest balance snapshot at or before it plus the postings after its cut), like
    balances.balances but `limit` at a time (≤ ACCOUNTS_MAX + 1)."""
    assert 0 < limit <= ACCOUNTS_MAX + 1
    query = select(LedgerAccount).order_by(LedgerAccount.code).limit(limit)
    for value, column in (
        (region_code, LedgerAccount.region_code),
        (insutype, LedgerAccount.insutype),
        (fixmedins_code, LedgerAccount.fixmedins_code),
        (name, LedgerAccount.name),
    ):
        if value:
            query = query.where(column == value)
    if after_code:
        query = query.where(LedgerAccount.code > after_code)
    accounts = list(session.scalars(query))
    at: dict[int, int] = {}
    if as_of is not None and accounts:
        # the balance snapshots plus the postings after them: bounded whatever the history
        at = snapshots.balances_as_of(
            session, [(a.id, f"{a.region_code}:{a.insutype}") for a in accounts], as_of, "effective"
        )
    result = []
    for account in accounts:
        dmc = account.balance_fen if as_of is None else at[account.id]
        result.append(
            AccountBalance(
                account.code,
                account.name,
                account.fixmedins_code,
                rules.normal_balance(account.name, dmc),
                dmc,
            )
        )
    return result
