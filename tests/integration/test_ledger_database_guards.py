"""The database itself refuses changes to the ledger and unbalanced entries (raw SQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from app.ledger import service as ledger
from tests.support.ledger import NOW, acct, transfer_draft


def _posted(session: Session) -> int:
    entry = ledger.post(
        session, transfer_draft("a", acct("bank"), acct("appropriation"), 100), now=NOW
    )
    session.flush()
    return entry.entry_id


def _refused(session: Session, sql: str, match: str, **params: object) -> None:
    with pytest.raises(DatabaseError, match=match), session.begin_nested():
        session.execute(text(sql), params)


def test_postings_cannot_be_updated_or_deleted(session: Session) -> None:
    _posted(session)
    _refused(session, "UPDATE ledger_posting SET amount_fen = 1", "append-only")
    _refused(session, "DELETE FROM ledger_posting", "append-only")


def test_entries_cannot_be_updated_or_deleted(session: Session) -> None:
    entry_id = _posted(session)
    _refused(
        session, "UPDATE journal_entry SET memo = 'x' WHERE id = :i", "append-only", i=entry_id
    )
    _refused(session, "DELETE FROM journal_entry WHERE id = :i", "append-only", i=entry_id)


def _account_id(session: Session) -> int:
    return session.execute(
        text("SELECT id FROM ledger_account WHERE code = :c"), {"c": acct("bank")}
    ).scalar_one()


def test_postings_cannot_be_added_to_a_posted_entry(session: Session) -> None:
    entry_id = _posted(session)
    _refused(
        session,
        "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) VALUES (:e, :a, 'D', 5)",
        "posted journal entry",
        e=entry_id,
        a=_account_id(session),
    )


def _raw_posting(session: Session, entry_id: int, side: str, amount: int) -> None:
    session.execute(
        text(
            "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) VALUES (:e, :a, :s, :m)"
        ),
        {"e": entry_id, "a": _account_id(session), "s": side, "m": amount},
    )


def _raw_entry(session: Session, entry_id: int) -> None:
    sqlite = session.get_bind().dialect.name == "sqlite"
    session.execute(
        text(
            "INSERT INTO journal_entry (id, kind, idempotency_key, request_hash, business_ref, region_code,"
            " insutype, effective_at, recorded_at, memo, prev_hash, entry_hash)"
            " VALUES (:i, 'raw', :k, 'x', 'raw', '640100', '310', :t, :t, '', 'x', 'x')"
        ),
        {"i": entry_id, "k": f"raw-{entry_id}", "t": NOW.replace(tzinfo=None) if sqlite else NOW},
    )


def test_an_unbalanced_entry_is_refused(session: Session) -> None:
    _posted(session)
    with pytest.raises(DatabaseError, match="unbalanced"), session.begin_nested():
        _raw_posting(session, 9001, "D", 5)
        _raw_posting(session, 9001, "C", 4)
        _raw_entry(session, 9001)
    with pytest.raises(DatabaseError, match="unbalanced"), session.begin_nested():
        _raw_posting(session, 9002, "D", 5)  # one posting is not an entry
        _raw_entry(session, 9002)
    with pytest.raises(DatabaseError, match="unbalanced"), session.begin_nested():
        _raw_entry(session, 9003)  # no postings at all
    # a balanced raw entry is accepted by the database (the service adds the hash chain)
    with session.begin_nested() as raw:
        _raw_posting(session, 9004, "D", 5)
        _raw_posting(session, 9004, "C", 5)
        _raw_entry(session, 9004)
        raw.rollback()


def test_zero_or_negative_postings_are_refused(session: Session) -> None:
    _posted(session)
    for amount in (0, -5):
        with pytest.raises(DatabaseError), session.begin_nested():
            _raw_posting(session, 9100, "D", amount)


def test_sqlite_replace_cannot_rewrite_ledger_or_trail_rows(session: Session) -> None:
    """INSERT OR REPLACE deletes the row it replaces: the append-only triggers fire on that
    delete too (recursive triggers are on), so nothing is rewritten."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's (PostgreSQL's ON CONFLICT is tested above)")
    entry_id = _posted(session)
    posting_id, account_id = session.execute(
        text("SELECT id, account_id FROM ledger_posting WHERE entry_id = :e AND side = 'D'"),
        {"e": entry_id},
    ).one()
    _refused(
        session,
        "INSERT OR REPLACE INTO ledger_posting (id, entry_id, account_id, side, amount_fen)"
        " VALUES (:p, 9999, :a, 'D', 1)",
        "append-only",
        p=posting_id,
        a=account_id,
    )
    _refused(
        session,
        "INSERT OR REPLACE INTO journal_entry SELECT * FROM journal_entry WHERE id = :e",
        "append-only",
        e=entry_id,
    )
