"""The single post's plans do not go stale (issue 20.1, migration 0029), PostgreSQL only.

A connection caches the plans of `ledger_post_one` and of the ledger's guard triggers the
first time it runs them, sized for the tables of that moment. A connection that started on
an empty ledger must not keep scanning whole tables once the ledger has grown: every lookup
the single post and its checks make (the chain head, the idempotency key, the accounts, the
postings of the new entry, the new postings' entry) stays an index lookup. The plans are read
back with `auto_explain` on the same connection, nested statements included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from app.db import make_engine, make_sessionmaker, transaction
from app.ledger import service as ledger
from app.ledger.rules import Draft
from tests.support.databases import backend, fresh_database
from tests.support.ledger import NOW, acct, transfer_draft

pytestmark = pytest.mark.postgres_only

LEDGER_TABLES = ("journal_entry", "ledger_posting", "ledger_account", "ledger_chain")


@pytest.fixture
def one_connection() -> Iterator[Engine]:
    if backend() != "postgresql":
        pytest.skip("the server-side post and its plans are PostgreSQL's")
    with fresh_database() as url:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        yield engine
        engine.dispose()


def _draft(number: int) -> Draft:
    institution = f"H{number % 50:03d}"
    return transfer_draft(
        f"plan-{number}",
        acct("payable", institution),
        acct("in_transit"),
        100 + number,
        when=NOW + timedelta(minutes=number),
    )


def test_a_connection_that_began_on_an_empty_ledger_keeps_looking_rows_up_by_index(
    one_connection: Engine,
) -> None:
    factory = make_sessionmaker(one_connection)
    for number in range(8):  # plans made (and generic ones chosen) on an empty ledger
        with transaction(factory) as session:
            ledger.post(session, _draft(number), now=NOW)
    with transaction(factory) as session:  # the ledger grows on the same connection
        ledger.post_many(session, [_draft(number) for number in range(8, 3008)], now=NOW)

    plans: list[str] = []
    with one_connection.connect() as connection:
        raw = connection.connection.driver_connection
        raw.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        for setting in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_level = notice",
            "SET client_min_messages = notice",
        ):
            connection.exec_driver_sql(setting)
        connection.commit()
    with transaction(factory) as session:
        posted = ledger.post(session, _draft(5000), now=NOW)
    assert not posted.replayed

    text = "\n".join(plans)
    assert "ledger_post_one" in text and "new_postings" in text and "new_entries" in text
    scanned = sorted(set(re.findall(r"Seq Scan on (\w+)", text)) & set(LEDGER_TABLES))
    assert scanned == [], f"whole-table scans in the single post: {scanned}\n{text}"
    assert "Hash Join" not in text and "Hash Semi Join" not in text, text

    with transaction(factory) as session:
        report = ledger.verify(session)
    assert report.ok, report
