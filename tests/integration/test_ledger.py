"""Posting, idempotency, reversal, balances (current and as of), trial balance, verify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.ledger import service as ledger
from app.ledger.rules import Draft, Line
from tests.support.ledger import NOW, acct, transfer_draft


def test_post_replay_and_conflict(session: Session) -> None:
    draft = transfer_draft("appropriation:1", acct("bank"), acct("appropriation"), 10_000_000)
    first = ledger.post(session, draft, now=NOW)
    again = ledger.post(session, draft, now=NOW + timedelta(hours=1))
    assert not first.replayed and again.replayed and again.entry_id == first.entry_id
    assert ledger.balance(session, acct("bank")) == 10_000_000
    assert ledger.balance(session, acct("appropriation")) == 10_000_000
    other = transfer_draft("appropriation:1", acct("bank"), acct("appropriation"), 1)
    with pytest.raises(ledger.LedgerConflict):
        ledger.post(session, other, now=NOW)
    assert ledger.balance(session, acct("bank")) == 10_000_000


def test_post_many_posts_in_order_and_resolves_duplicates(session: Session) -> None:
    drafts = [
        transfer_draft(f"k{i}", acct("expense", "H001"), acct("payable", "H001"), 100 + i)
        for i in range(5)
    ]
    drafts.append(drafts[2])  # the same event twice in one call
    drafts.append(
        transfer_draft(
            "k390",
            acct("bank", insutype="390"),
            acct("appropriation", insutype="390"),
            7,
            insutype="390",
        )
    )
    results = ledger.post_many(session, drafts, now=NOW)
    assert [r.replayed for r in results] == [False] * 5 + [True, False]
    assert results[5].entry_id == results[2].entry_id
    assert ledger.balance(session, acct("payable", "H001")) == sum(100 + i for i in range(5))
    assert ledger.trial_balance(session).balanced
    assert ledger.verify(session).ok


def test_reverse_once(session: Session) -> None:
    posted = ledger.post(
        session,
        transfer_draft("daily:1", acct("expense", "H001"), acct("payable", "H001"), 500),
        now=NOW,
    )
    reversal = ledger.reverse(session, posted.entry_id, "wrong institution", now=NOW)
    assert ledger.balance(session, acct("payable", "H001")) == 0
    assert ledger.balance(session, acct("expense", "H001")) == 0
    assert ledger.get_entry(session, reversal.entry_id).reverses_entry_id == posted.entry_id
    with pytest.raises(ledger.LedgerConflict):
        ledger.reverse(session, posted.entry_id, "again", now=NOW)
    assert ledger.verify(session).ok


def test_negative_amounts_swap_sides(session: Session) -> None:
    ledger.post(
        session, transfer_draft("k", acct("expense", "H1"), acct("payable", "H1"), -250), now=NOW
    )
    assert ledger.balance(session, acct("payable", "H1")) == -250  # owed by the institution
    assert ledger.balance(session, acct("expense", "H1")) == -250


def test_balances_as_of_effective_and_recorded_time(session: Session) -> None:
    early, late = NOW, NOW + timedelta(days=2)
    ledger.post(
        session, transfer_draft("a", acct("bank"), acct("appropriation"), 100, when=early), now=late
    )
    ledger.post(
        session, transfer_draft("b", acct("bank"), acct("appropriation"), 50, when=late), now=late
    )
    middle = NOW + timedelta(days=1)
    assert ledger.balance_as_of(session, acct("bank"), middle) == 100
    assert ledger.balance_as_of(session, acct("bank"), middle, basis="recorded") == 0
    assert ledger.balance_as_of(session, acct("bank"), late) == 150
    assert ledger.balance(session, acct("bank")) == 150
    rows = ledger.trial_balance(session, as_of=middle)
    assert rows.debits_fen == rows.credits_fen == 100


def test_trial_balance_sums_debit_and_credit_sides(session: Session) -> None:
    ledger.post(session, transfer_draft("a", acct("bank"), acct("appropriation"), 1000), now=NOW)
    ledger.post(
        session, transfer_draft("b", acct("expense", "H1"), acct("payable", "H1"), 300), now=NOW
    )
    ledger.post(session, transfer_draft("c", acct("payable", "H1"), acct("bank"), 300), now=NOW)
    trial = ledger.trial_balance(session)
    assert trial.balanced and trial.debits_fen == 1000 and trial.credits_fen == 1000
    by_code = {row.code: row.balance_fen for row in trial.accounts}
    assert by_code == {
        acct("appropriation"): 1000,
        acct("bank"): 700,
        acct("expense", "H1"): 300,
        acct("payable", "H1"): 0,
    }


def test_verify_detects_a_tampered_posting_and_balance(session: Session) -> None:
    ledger.post(session, transfer_draft("a", acct("bank"), acct("appropriation"), 1000), now=NOW)
    ledger.post(session, transfer_draft("b", acct("bank"), acct("appropriation"), 10), now=NOW)
    assert ledger.verify(session).ok
    with session.begin_nested() as tamper:
        # An attacker with DDL rights removes the guard (transactional DDL: rolled back below).
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # run pending FK checks
            session.execute(text("ALTER TABLE ledger_posting DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER ledger_posting_no_update"))
        session.execute(text("UPDATE ledger_posting SET amount_fen = 999 WHERE amount_fen = 1000"))
        report = ledger.verify(session)
        assert not report.ok
        assert {code for code, _, _ in report.balance_mismatches} == {
            acct("bank"),
            acct("appropriation"),
        }
        assert any("content differs" in reason for _, _, reason in report.chain_breaks)
        tamper.rollback()
    assert ledger.verify(session).ok


def test_verify_detects_a_tampered_balance_row(session: Session) -> None:
    ledger.post(session, transfer_draft("a", acct("bank"), acct("appropriation"), 1000), now=NOW)
    session.execute(
        text("UPDATE ledger_account SET balance_fen = balance_fen + 1 WHERE code = :c"),
        {"c": acct("bank")},
    )
    report = ledger.verify(session)
    assert report.balance_mismatches == [(acct("bank"), 1001, 1000)]


def test_entries_list_and_lines(session: Session) -> None:
    for i in range(3):
        ledger.post(
            session,
            transfer_draft(f"e{i}", acct("expense", "H1"), acct("payable", "H1"), 10 + i),
            now=NOW,
        )
    ledger.post(session, transfer_draft("x", acct("bank"), acct("appropriation"), 1), now=NOW)
    rows = ledger.list_entries(
        session,
        region_code=None,
        insutype=None,
        fixmedins_code=None,
        kind=None,
        period=None,
        account_code=acct("payable", "H1"),
        after_id=None,
        limit=10,
    )
    assert [row.idempotency_key for row in rows] == ["e0", "e1", "e2"]
    lines = ledger.entry_lines(session, [rows[0].id])[rows[0].id]
    assert lines == [Line(acct("expense", "H1"), "D", 10), Line(acct("payable", "H1"), "C", 10)]


def test_hash_chain_links_entries_per_fund(session: Session) -> None:
    a = ledger.post(session, transfer_draft("a", acct("bank"), acct("appropriation"), 1), now=NOW)
    b = ledger.post(session, transfer_draft("b", acct("bank"), acct("appropriation"), 2), now=NOW)
    first, second = ledger.get_entry(session, a.entry_id), ledger.get_entry(session, b.entry_id)
    assert second.prev_hash == first.entry_hash
    assert first.prev_hash == "0" * 64
    draft = Draft(
        "k",
        "z",
        "640100",
        "390",
        (
            Line(acct("bank", insutype="390"), "D", 1),
            Line(acct("appropriation", insutype="390"), "C", 1),
        ),
        NOW,
        "r",
    )
    other_fund = ledger.get_entry(session, ledger.post(session, draft, now=NOW).entry_id)
    assert other_fund.prev_hash == "0" * 64
