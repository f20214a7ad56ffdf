"""A single post (issue 20.1): on PostgreSQL one call of `ledger_post_one` (migration 0018),
on SQLite the Python path; the same guarantees either way: idempotency on the key, the
balance checked by the database, the hash chain, maintained balances, snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from app.db import is_postgres, transaction
from app.ledger import fastpost, rules, snapshots
from app.ledger import service as ledger
from app.ledger.models import JournalEntry, LedgerAccount, LedgerSnapshot
from app.ledger.rules import Draft, Line
from tests.support.ledger import NOW, acct, transfer_draft

FUND = "640100:310"


def _statements(session: Session) -> list[str]:
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_post_is_one_statement_on_postgresql(session: Session) -> None:
    if not is_postgres(session):
        pytest.skip("the one-call post is PostgreSQL's")
    ledger.post(session, transfer_draft("warm", acct("bank"), acct("appropriation"), 5), now=NOW)
    seen = _statements(session)
    draft = transfer_draft("one", acct("payable", "H001"), acct("bank"), 7)
    posted = ledger.post(session, draft, now=NOW)
    assert len(seen) == 1 and "ledger_post_one" in seen[0]
    assert not posted.replayed
    assert ledger.entry_lines(session, [posted.entry_id])[posted.entry_id] == list(draft.lines)


def test_a_repeated_key_returns_the_same_entry_and_other_content_conflicts(
    session: Session,
) -> None:
    draft = transfer_draft("same", acct("bank"), acct("appropriation"), 100)
    first = ledger.post(session, draft, now=NOW)
    again = ledger.post(session, draft, now=NOW + timedelta(hours=1))
    assert (again.entry_id, again.replayed, first.replayed) == (first.entry_id, True, False)
    other = transfer_draft("same", acct("bank"), acct("appropriation"), 101)
    with pytest.raises(ledger.LedgerConflict):
        ledger.post(session, other, now=NOW)
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    assert entries == 1
    assert ledger.balance(session, acct("bank")) == 100


def test_accounts_are_created_on_first_use_with_their_fields(session: Session) -> None:
    ledger.post(
        session, transfer_draft("a", acct("expense", "H9"), acct("payable", "H9"), 3), now=NOW
    )
    rows = session.execute(
        select(LedgerAccount.code, LedgerAccount.normal_side, LedgerAccount.fixmedins_code)
        .where(LedgerAccount.fixmedins_code == "H9")
        .order_by(LedgerAccount.code)
    ).all()
    assert [tuple(row) for row in rows] == [
        (acct("expense", "H9"), "D", "H9"),
        (acct("payable", "H9"), "C", "H9"),
    ]
    assert ledger.balance(session, acct("payable", "H9")) == 3


def test_the_chain_verifies_across_single_and_batched_posts(session: Session) -> None:
    lines = (
        Line(acct("payable", "H1"), "D", 30),
        Line(acct("payable", "H1"), "D", 12),
        Line(acct("bank"), "C", 40),
        Line(acct("in_transit"), "C", 2),
    )
    split = Draft("test", "split", "640100", "310", lines, NOW, "test:split", "H1", "2026-03")
    for index in range(3):
        ledger.post(
            session, transfer_draft(f"s{index}", acct("bank"), acct("appropriation"), 9), now=NOW
        )
        ledger.post_many(
            session,
            [transfer_draft(f"b{index}", acct("in_transit"), acct("bank"), 4)],
            now=NOW,
        )
    posted = ledger.post(session, split, now=NOW)
    other = ledger.post(
        session,
        transfer_draft(
            "o",
            acct("bank", insutype="390"),
            acct("appropriation", insutype="390"),
            1,
            insutype="390",
        ),
        now=NOW,
    )
    reversal = ledger.reverse(session, posted.entry_id, "wrong", now=NOW)
    entry = ledger.get_entry(session, posted.entry_id)
    assert entry.entry_hash == rules.chain_hash(
        entry.prev_hash, "split", entry.request_hash, NOW, NOW
    )
    assert ledger.get_entry(session, other.entry_id).prev_hash == rules.GENESIS_HASH
    assert ledger.get_entry(session, reversal.entry_id).prev_hash == entry.entry_hash
    report = ledger.verify(session)
    assert report.ok, report
    assert report.entries_checked == 9
    assert ledger.balance(session, acct("bank")) == 3 * 9 - 3 * 4


def test_the_database_refuses_an_unbalanced_call(session: Session) -> None:
    if not is_postgres(session):
        pytest.skip("the one-call post is PostgreSQL's")
    parameters = fastpost.call_parameters(
        transfer_draft("bad", acct("bank"), acct("appropriation"), 100), NOW
    )
    parameters["amounts"] = [100, 99]
    with pytest.raises(DatabaseError, match="unbalanced"), session.begin_nested():
        session.connection().exec_driver_sql(fastpost.CALL, parameters)
    for line_field in ("codes", "names", "institutions", "normal_sides", "sides", "amounts"):
        parameters[line_field] = parameters[line_field][:1]  # type: ignore[index]
    with pytest.raises(DatabaseError, match="unbalanced"), session.begin_nested():
        session.connection().exec_driver_sql(fastpost.CALL, parameters)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0
    assert session.execute(text("SELECT count(*) FROM ledger_posting")).scalar_one() == 0


def test_a_late_entry_drops_stale_snapshots_and_as_of_stays_right(
    session_factory: sessionmaker[Session],
) -> None:
    bank = acct("bank")
    for minute in (0, 10, 20):
        with transaction(session_factory) as session:
            draft = transfer_draft(
                f"m{minute}", bank, acct("appropriation"), 100, when=NOW + timedelta(minutes=minute)
            )
            ledger.post(session, draft, now=NOW + timedelta(minutes=minute))
    snapshots.take(session_factory, every=1, now=NOW + timedelta(hours=1))
    with transaction(session_factory) as session:
        cuts = session.scalars(
            select(LedgerSnapshot.cut).where(LedgerSnapshot.basis == "effective")
        ).all()
        assert max(cuts) == NOW + timedelta(minutes=20)
        late = transfer_draft(
            "late", bank, acct("appropriation"), 7, when=NOW + timedelta(minutes=5)
        )
        ledger.post(session, late, now=NOW + timedelta(minutes=30))
        remaining = session.scalars(
            select(LedgerSnapshot.cut).where(LedgerSnapshot.basis == "effective")
        ).all()
        assert remaining and max(remaining) < NOW + timedelta(minutes=5)
        assert ledger.balance_as_of(session, bank, NOW + timedelta(minutes=10)) == 207
        assert ledger.balance_as_of(session, bank, NOW + timedelta(minutes=4)) == 100
        assert (
            ledger.balance_as_of(session, bank, NOW + timedelta(minutes=25), basis="recorded")
            == 300
        )
        assert ledger.verify(session).ok
