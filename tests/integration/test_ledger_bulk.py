"""Batched posting (issue 20.3): accounts created in bulk with their balances, existing ones
moved by one statement, postings and entries set-based, the chain in one pass — and every
guarantee of a single post kept (replay posts nothing twice, balances, chain, verify)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import COPY_ROWS_MIN
from app.ledger import bulk
from app.ledger import service as ledger
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import Draft, LedgerRuleError, Line
from tests.support.ledger import NOW, acct, transfer_draft

ENTRIES = COPY_ROWS_MIN + 50  # by COPY on PostgreSQL, past every small-batch threshold


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _accruals(first: int, count: int, *, prefix: str = "accrual") -> list[Draft]:
    """One accrual per institution H{i}, i in [first, first + count), amount 100 + i."""
    return [
        transfer_draft(
            f"{prefix}:{i}", acct("expense", f"H{i:04d}"), acct("payable", f"H{i:04d}"), 100 + i
        )
        for i in range(first, first + count)
    ]


def _sum(first: int, count: int) -> int:
    return sum(100 + i for i in range(first, first + count))


def test_a_large_batch_creates_its_accounts_once_with_their_balances(session: Session) -> None:
    ledger.post(session, transfer_draft("seed", acct("bank"), acct("appropriation"), 5), now=NOW)
    # Half the institutions have accounts with balances before the batch.
    ledger.post_many(session, _accruals(0, ENTRIES // 2, prefix="earlier"), now=NOW)
    accounts = _count(session, LedgerAccount)
    results = ledger.post_many(session, _accruals(0, ENTRIES), now=NOW)
    assert not any(result.replayed for result in results)
    assert _count(session, LedgerAccount) == accounts + 2 * (ENTRIES - ENTRIES // 2)
    for i in (0, ENTRIES // 2 - 1, ENTRIES // 2, ENTRIES - 1):
        before = 100 + i if i < ENTRIES // 2 else 0
        assert ledger.balance(session, acct("payable", f"H{i:04d}")) == before + 100 + i
        assert ledger.balance(session, acct("expense", f"H{i:04d}")) == before + 100 + i
    assert ledger.balance(session, acct("bank")) == 5  # not in the batch, not moved
    assert ledger.trial_balance(session).balanced
    report = ledger.verify(session)
    assert report.ok, report


def test_a_replayed_batch_posts_nothing_twice(session: Session) -> None:
    drafts = _accruals(0, ENTRIES)
    first = ledger.post_many(session, drafts, now=NOW)
    counts = (_count(session, JournalEntry), _count(session, LedgerPosting))
    last_hash = session.scalar(select(JournalEntry.entry_hash).order_by(JournalEntry.id.desc()))
    # The same batch again, later, half of it with a batch of new entries.
    again = ledger.post_many(session, drafts, now=NOW + timedelta(hours=1))
    assert all(result.replayed for result in again)
    assert [r.entry_id for r in again] == [r.entry_id for r in first]
    assert (_count(session, JournalEntry), _count(session, LedgerPosting)) == counts
    overlap = drafts[ENTRIES // 2 :] + _accruals(ENTRIES, 10)
    mixed = ledger.post_many(session, overlap, now=NOW + timedelta(hours=2))
    assert [r.replayed for r in mixed] == [True] * (ENTRIES - ENTRIES // 2) + [False] * 10
    assert _count(session, JournalEntry) == counts[0] + 10
    assert ledger.balance(session, acct("payable", "H0000")) == 100
    total = sum(ledger.balance(session, acct("payable", f"H{i:04d}")) for i in range(ENTRIES + 10))
    assert total == _sum(0, ENTRIES + 10)
    # The chain continues from the first batch's last entry.
    new_ids = [r.entry_id for r in mixed[-10:]]
    first_new = session.get(JournalEntry, min(new_ids))
    assert first_new is not None and first_new.prev_hash == last_hash
    assert ledger.verify(session).ok


def test_a_replay_with_other_content_posts_nothing(session: Session) -> None:
    drafts = _accruals(0, ENTRIES)
    ledger.post_many(session, drafts, now=NOW)
    counts = (_count(session, JournalEntry), _count(session, LedgerPosting))
    other = transfer_draft(drafts[0].key, acct("expense", "H0000"), acct("payable", "H0000"), 1)
    with pytest.raises(ledger.LedgerConflict):  # refused before anything is written
        ledger.post_many(session, [*_accruals(ENTRIES, 5), other, *drafts[1:]], now=NOW)
    assert (_count(session, JournalEntry), _count(session, LedgerPosting)) == counts
    assert ledger.balance(session, acct("payable", "H0000")) == 100


def test_accounts_moved_by_nothing_in_a_batch_still_post(session: Session) -> None:
    # in_transit is debited and credited the same amount: its net movement is zero, whether
    # it exists before (looked up) or not (created at zero). Entries and postings by COPY.
    def batch(prefix: str) -> list[Draft]:
        drafts = []
        for i in range(ENTRIES):
            code = f"H{i:04d}"
            drafts.append(
                Draft(
                    kind="test",
                    key=f"{prefix}:{i}",
                    region_code="640100",
                    insutype="310",
                    fixmedins_code=code if i % 2 else None,  # NULLs through the COPY too
                    period="2026-10" if i % 3 else None,
                    lines=(
                        Line(acct("payable", code), "D", 10),
                        Line(acct("in_transit"), "C", 10),
                        Line(acct("in_transit"), "D", 10),
                        Line(acct("bank"), "C", 10),
                    ),
                    effective_at=NOW,
                    business_ref=f"test:{prefix}:{i}",
                )
            )
        return drafts

    ledger.post_many(session, batch("first"), now=NOW)
    ledger.post_many(session, batch("second"), now=NOW)
    assert ledger.balance(session, acct("in_transit")) == 0
    assert ledger.balance(session, acct("bank")) == -2 * ENTRIES * 10
    assert ledger.balance(session, acct("payable", "H0001")) == -20
    stored = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == "first:2"))
    assert stored is not None and (stored.fixmedins_code, stored.period) == (None, "2026-10")
    assert ledger.verify(session).ok


def test_bulk_account_creation_is_idempotent(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's bulk path; SQLite creates accounts by ensure_accounts")
    deltas = {acct("expense", f"H{i:04d}"): 7 for i in range(30)}
    deltas.update({acct("payable", f"H{i:04d}"): -7 for i in range(30)})
    deltas[acct("bank")] = 0
    first = bulk.accounts_with_deltas(session, "640100", "310", deltas)
    accounts = _count(session, LedgerAccount)
    again = bulk.accounts_with_deltas(session, "640100", "310", deltas)
    assert again == first and set(first) == set(deltas)
    assert _count(session, LedgerAccount) == accounts  # nothing created twice
    stored = dict(
        session.execute(
            select(LedgerAccount.code, LedgerAccount.balance_fen).where(
                LedgerAccount.code.in_(list(deltas))
            )
        ).all()
    )
    assert stored == {code: 2 * delta for code, delta in deltas.items()}
    row = session.scalar(
        select(LedgerAccount).where(LedgerAccount.code == acct("payable", "H0003"))
    )
    assert row is not None
    assert (row.name, row.region_code, row.insutype, row.fixmedins_code, row.normal_side) == (
        "payable",
        "640100",
        "310",
        "H0003",
        "C",
    )


@pytest.mark.parametrize(
    "code",
    ["payable:640100:310", "bank:640100:310:H0001", "payable:640100:310:H1:x", "cash:640100:310"],
)
def test_bulk_account_creation_refuses_malformed_codes(session: Session, code: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's bulk path")
    accounts = _count(session, LedgerAccount)
    with pytest.raises(LedgerRuleError):
        bulk.accounts_with_deltas(session, "640100", "310", {code: 0, acct("bank"): 0})
    assert _count(session, LedgerAccount) == accounts + 1  # the bank account only
