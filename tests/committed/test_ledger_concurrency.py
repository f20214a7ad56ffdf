"""Concurrent posting with real commits: one entry per key, exact balances."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import service as ledger
from tests.support.databases import engine_for_threads, fresh_database
from tests.support.ledger import NOW, acct, transfer_draft

THREADS = 8
POSTS_PER_THREAD = 25


def test_concurrent_posts_same_key_and_same_account() -> None:
    with fresh_database() as url:
        engine = engine_for_threads(url, THREADS)
        factory = make_sessionmaker(engine)
        barrier = threading.Barrier(THREADS)
        errors: list[BaseException] = []
        entry_ids: list[int] = []

        def worker(number: int) -> None:
            try:
                barrier.wait()
                for i in range(POSTS_PER_THREAD):
                    with transaction(factory) as session:
                        # every thread posts the same shared key once, and its own keys
                        shared = ledger.post(
                            session,
                            transfer_draft("shared", acct("bank"), acct("appropriation"), 1000),
                            now=NOW,
                        )
                        entry_ids.append(shared.entry_id)
                        ledger.post(
                            session,
                            transfer_draft(
                                f"t{number}-{i}", acct("payable", "H1"), acct("bank"), 3
                            ),
                            now=NOW,
                        )
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert len(set(entry_ids)) == 1
        with transaction(factory) as session:
            count = session.execute(
                text("SELECT count(*) FROM journal_entry WHERE idempotency_key = 'shared'")
            ).scalar_one()
            assert count == 1
            assert ledger.balance(session, acct("bank")) == 1000 - THREADS * POSTS_PER_THREAD * 3
            assert ledger.balance(session, acct("payable", "H1")) == -THREADS * POSTS_PER_THREAD * 3
            report = ledger.verify(session)
            assert report.ok, report
            assert report.entries_checked == 1 + THREADS * POSTS_PER_THREAD
        engine.dispose()


def test_postings_without_their_entry_cannot_commit() -> None:
    """The postings' foreign key is deferred to commit: orphans are refused there."""
    with fresh_database() as url:
        engine = make_engine(url)
        with transaction(make_sessionmaker(engine)) as session:
            ledger.post(
                session, transfer_draft("a", acct("bank"), acct("appropriation"), 100), now=NOW
            )
        with pytest.raises(DatabaseError, match=r"(?i)foreign key"), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO ledger_posting (entry_id, account_id, side, amount_fen) "
                    "SELECT 777, id, 'D', 5 FROM ledger_account LIMIT 1"
                )
            )
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM ledger_posting")).scalar_one() == 2
        engine.dispose()
