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


def test_entries_cannot_be_updated_deleted_or_unsealed(session: Session) -> None:
    entry_id = _posted(session)
    _refused(
        session, "UPDATE journal_entry SET memo = 'x' WHERE id = :i", "append-only", i=entry_id
    )
    _refused(
        session, "UPDATE journal_entry SET sealed = false WHERE id = :i", "append-only", i=entry_id
    )
    _refused(session, "DELETE FROM journal_entry WHERE id = :i", "append-only", i=entry_id)


def test_postings_cannot_be_added_to_a_sealed_entry(session: Session) -> None:
    entry_id = _posted(session)
    account_id = session.execute(
        text("SELECT id FROM ledger_account WHERE code = :c"), {"c": acct("bank")}
    ).scalar_one()
    _refused(
        session,
        "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) VALUES (:e, :a, 'D', 5)",
        "sealed",
        e=entry_id,
        a=account_id,
    )


def _raw_entry(session: Session, key: str, sealed: bool = False) -> int:
    session.execute(
        text(
            "INSERT INTO journal_entry (kind, idempotency_key, request_hash, business_ref, region_code,"
            " insutype, effective_at, recorded_at, memo, prev_hash, entry_hash, sealed)"
            " VALUES ('raw', :k, 'x', 'raw', '640100', '310', :t, :t, '', 'x', 'x', :s)"
        ),
        {
            "k": key,
            "t": NOW.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else NOW,
            "s": sealed,
        },
    )
    return session.execute(
        text("SELECT id FROM journal_entry WHERE idempotency_key = :k"), {"k": key}
    ).scalar_one()


def test_an_unbalanced_entry_cannot_be_sealed(session: Session) -> None:
    _posted(session)
    account_id = session.execute(
        text("SELECT id FROM ledger_account WHERE code = :c"), {"c": acct("bank")}
    ).scalar_one()
    with session.begin_nested():
        entry_id = _raw_entry(session, "raw-1")
        session.execute(
            text(
                "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) VALUES (:e, :a, 'D', 5)"
            ),
            {"e": entry_id, "a": account_id},
        )
        _refused(
            session,
            "UPDATE journal_entry SET sealed = true WHERE id = :i",
            "unbalanced",
            i=entry_id,
        )
        # a single posting that "balances" with itself is still not an entry
        session.execute(
            text(
                "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) VALUES (:e, :a, 'C', 4)"
            ),
            {"e": entry_id, "a": account_id},
        )
        _refused(
            session,
            "UPDATE journal_entry SET sealed = true WHERE id = :i",
            "unbalanced",
            i=entry_id,
        )
        # the unsealed entry counts in no balance
        assert ledger.balance_as_of(session, acct("bank"), NOW) == 100
        assert ledger.verify(session).unsealed_entries == [entry_id]


def test_entries_cannot_be_inserted_sealed(session: Session) -> None:
    with pytest.raises(DatabaseError, match="unsealed"), session.begin_nested():
        _raw_entry(session, "raw-2", sealed=True)


def test_zero_or_negative_postings_are_refused(session: Session) -> None:
    _posted(session)
    account_id = session.execute(
        text("SELECT id FROM ledger_account WHERE code = :c"), {"c": acct("bank")}
    ).scalar_one()
    with session.begin_nested():
        entry_id = _raw_entry(session, "raw-3")
        for amount in (0, -5):
            with pytest.raises(DatabaseError), session.begin_nested():
                session.execute(
                    text(
                        "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) VALUES (:e, :a, 'D', :m)"
                    ),
                    {"e": entry_id, "a": account_id, "m": amount},
                )
