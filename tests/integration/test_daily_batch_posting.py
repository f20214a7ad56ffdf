"""A daily batch's accruals through the batched posting path (issue 20.3): one entry per
line, the accounts of every institution created with their balances on the first batch and
moved on the next, and the posting step replayed posts nothing twice."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import SHANGHAI
from app.daily import generation
from app.daily.models import DailyBatch
from app.db import COPY_ROWS_MIN
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


def test_batches_post_one_accrual_per_line_and_a_replay_posts_nothing(session: Session) -> None:
    for i, code in enumerate(_codes()):
        builders.institution(session, code)
        settle(session, code, f"S{i}", 1_000 + i, FRI)
        settle(session, code, f"T{i}", 10 * i + 1, SAT)
    accounts = _count(session, LedgerAccount)
    friday = generate(session, FRI)
    assert friday.line_count == COUNT
    entries = _count(session, JournalEntry)
    assert _count(session, LedgerAccount) == accounts + 2 * COUNT  # created on first use
    assert _count(session, LedgerPosting) == 2 * entries
    assert all(_payable(session, code) == 1_000 + i for i, code in enumerate(_codes()))
    # The posting step again (a retried job step): every key is already posted.
    generation._post_generation(session, friday, {}, _generated(FRI))
    assert _count(session, JournalEntry) == entries
    assert _payable(session, "H0003") == 1_003
    # The next batch moves the existing accounts (no account created).
    saturday = generate(session, SAT)
    assert isinstance(saturday, DailyBatch) and saturday.line_count == COUNT
    assert _count(session, LedgerAccount) == accounts + 2 * COUNT
    assert _count(session, JournalEntry) == 2 * entries
    assert all(_payable(session, code) == 1_000 + i + 10 * i + 1 for i, code in enumerate(_codes()))
    assert ledger.trial_balance(session).balanced
    report = ledger.verify(session)
    assert report.ok, report
