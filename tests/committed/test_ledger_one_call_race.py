"""A concurrent double post of one key, real commits (issue 20.1): posted once, every caller
gets that entry, other content under the key is refused; the chain and balances verify. On
PostgreSQL a single post is one call of `ledger_post_one`; SQLite serialises writers."""

from __future__ import annotations

import threading

from sqlalchemy import text

from app.db import make_sessionmaker, transaction
from app.ledger import service as ledger
from app.ledger.service import Posted
from tests.support.databases import engine_for_threads, fresh_database
from tests.support.ledger import NOW, acct, transfer_draft

THREADS = 6
ROUNDS = 5


def test_a_key_posted_at_once_by_many_is_posted_once() -> None:
    with fresh_database() as url:
        engine = engine_for_threads(url, THREADS)
        factory = make_sessionmaker(engine)
        results: list[Posted] = []
        conflicts: list[int] = []
        errors: list[BaseException] = []
        for round_number in range(ROUNDS):
            barrier = threading.Barrier(THREADS)
            key = f"double-{round_number}"

            def worker(number: int, key: str = key, barrier: threading.Barrier = barrier) -> None:
                # the last thread sends other content under the same key
                amount = 500 if number < THREADS - 1 else 501
                draft = transfer_draft(key, acct("payable", "H1"), acct("bank"), amount)
                try:
                    barrier.wait()
                    with transaction(factory) as session:
                        results.append(ledger.post(session, draft, now=NOW))
                except ledger.LedgerConflict:
                    conflicts.append(number)
                except BaseException as error:  # surfaced below
                    errors.append(error)

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert not errors, errors
        by_key: dict[str, set[int]] = {}
        for result in results:
            by_key.setdefault(result.key, set()).add(result.entry_id)
        assert all(len(ids) == 1 for ids in by_key.values()), by_key
        fresh = [r for r in results if not r.replayed]
        assert len(fresh) == ROUNDS  # one poster per key wrote the entry
        # the odd one out wrote its own content only when it came first
        assert len(results) + len(conflicts) == ROUNDS * THREADS
        with transaction(factory) as session:
            counts = session.execute(
                text("SELECT count(*) FROM journal_entry WHERE idempotency_key LIKE 'double-%'")
            ).scalar_one()
            assert counts == ROUNDS
            amounts = session.execute(
                text(
                    "SELECT coalesce(sum(p.amount_fen), 0) FROM ledger_posting p "
                    "JOIN ledger_account a ON a.id = p.account_id WHERE a.code = :code"
                ),
                {"code": acct("bank")},
            ).scalar_one()
            assert ledger.balance(session, acct("bank")) == -amounts
            report = ledger.verify(session)
            assert report.ok, report
            assert report.entries_checked == ROUNDS
        engine.dispose()
