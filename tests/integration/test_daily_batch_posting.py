"""A daily batch's accruals through the batched posting path (issue 20.3): one entry per
line, the accounts of every institution created with their balances on the first batch and
moved on the next, and the posting step replayed posts nothing twice."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import SHANGHAI
from app.daily import generation
from app.daily.models import DailyBatch
from app.db import COPY_ROWS_MIN
from app.institutions import maintenance
from app.ledger import service as ledger
from app.ledger.models import JournalEntry, LedgerAccount, LedgerPosting
from app.ledger.rules import account_code
from tests.support import builders
from tests.support.daily import generate, settle

FRI, SAT = date(2026, 3, 6), date(2026, 3, 7)
COUNT = COPY_ROWS_MIN + 5  # lines enough for COPY on PostgreSQL


def _codes() -> list[str]:
    return [f"H{i:04d}" for i in range(COUNT)]


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _payable(session: Session, code: str) -> int:
    return ledger.balance_or_zero(session, account_code("payable", "640100", "310", code))


def _generated(day: date) -> datetime:
    return datetime.combine(date.fromordinal(day.toordinal() + 1), time(0, 30), tzinfo=SHANGHAI)


@pytest.mark.parametrize("at_enrolment", [True, False], ids=["accounts-at-enrolment", "first-use"])
def test_batches_post_one_accrual_per_line_and_a_replay_posts_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch, at_enrolment: bool
) -> None:
    """Since issue 20.3 an enrolment opens the institution's expense and payable of the fund
    (the batch finds them); enrolments made before that have none: the batch creates them."""
    if not at_enrolment:
        monkeypatch.setattr(maintenance, "_ENROLLMENT_HOOKS", [])
    before = _count(session, LedgerAccount)
    for i, code in enumerate(_codes()):
        builders.institution(session, code)
        settle(session, code, f"S{i}", 1_000 + i, FRI)
        settle(session, code, f"T{i}", 10 * i + 1, SAT)
    accounts = _count(session, LedgerAccount)
    assert accounts == before + (2 * COUNT if at_enrolment else 0)
    friday = generate(session, FRI)
    assert friday.line_count == COUNT
    entries = _count(session, JournalEntry)
    accounts = before + 2 * COUNT
    assert _count(session, LedgerAccount) == accounts  # at enrolment, or on first use
    assert _count(session, LedgerPosting) == 2 * entries
    assert all(_payable(session, code) == 1_000 + i for i, code in enumerate(_codes()))
    # The posting step again (a retried job step): every key is already posted.
    generation._post_generation(session, friday, {}, _generated(FRI))
    assert _count(session, JournalEntry) == entries
    assert _payable(session, "H0003") == 1_003
    # The next batch moves the existing accounts (no account created).
    saturday = generate(session, SAT)
    assert isinstance(saturday, DailyBatch) and saturday.line_count == COUNT
    assert _count(session, LedgerAccount) == accounts
    assert _count(session, JournalEntry) == 2 * entries
    assert all(_payable(session, code) == 1_000 + i + 10 * i + 1 for i, code in enumerate(_codes()))
    assert ledger.trial_balance(session).balanced
    report = ledger.verify(session)
    assert report.ok, report


def test_an_enrolment_opens_the_institutions_accounts_of_the_fund(session: Session) -> None:
    builders.institution(session, "H9001")  # enrolled in 640100:310
    codes = [account_code(name, "640100", "310", "H9001") for name in ("expense", "payable")]
    rows = session.execute(
        select(LedgerAccount.code, LedgerAccount.normal_side, LedgerAccount.balance_fen)
        .where(LedgerAccount.fixmedins_code == "H9001")
        .order_by(LedgerAccount.code)
    ).all()
    assert [tuple(row) for row in rows] == [(codes[0], "D", 0), (codes[1], "C", 0)]
    accounts = _count(session, LedgerAccount)
    ledger.open_enrolment_accounts(session, "640100", "310", "H9001")  # idempotent
    assert _count(session, LedgerAccount) == accounts
