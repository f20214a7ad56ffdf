"""Pure rules behind the accountant's pages: the monthly payment limits as dates, and the
split of a receivable into age buckets (FIFO: repayments pay the oldest first)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.monthly import aging, deadlines
from app.workdays.rules import WorkCalendar

CALENDAR = WorkCalendar()
TODAY = date(2026, 6, 30)


def test_the_settlement_deadline_is_the_20th_working_day_after_the_computation_date() -> None:
    # March 2026: declared by Wed 15 April, computed from Thu 16 April; 20 working days after
    # it: 17–30 April (10, the 26th is no make-up day in 2026), the May Day holiday 1–5 May,
    # 6–9 May (4, Sat 9 May is worked), 11–15 May (5), Mon 18 May.
    assert deadlines.settlement_deadline("2026-03", 15, CALENDAR) == date(2026, 5, 18)
    # A day-off override moves it.
    closed = WorkCalendar({date(2026, 5, 18): False})
    assert deadlines.settlement_deadline("2026-03", 15, closed) == date(2026, 5, 19)


def test_the_payment_deadline_is_the_5th_working_day_after_the_approval() -> None:
    assert deadlines.payment_deadline(date(2026, 3, 4), CALENDAR) == date(2026, 3, 11)
    assert deadlines.payment_deadline(date(2026, 3, 6), CALENDAR) == date(2026, 3, 13)


def test_ages_take_the_newest_debits_first() -> None:
    debits = [
        (TODAY - timedelta(days=120), 500_00),  # repaid first (oldest)
        (TODAY - timedelta(days=60), 300_00),
        (TODAY - timedelta(days=10), 200_00),
    ]
    # 1,000.00 owed once, 350.00 repaid: the oldest 350.00 are gone.
    buckets, oldest = aging.by_age(debits, 650_00, TODAY)
    assert buckets == (200_00, 300_00, 150_00)
    assert oldest == TODAY - timedelta(days=120)
    buckets, oldest = aging.by_age(debits, 200_00, TODAY)
    assert buckets == (200_00, 0, 0) and oldest == TODAY - timedelta(days=10)


@pytest.mark.parametrize(
    ("age_days", "bucket"), [(0, 0), (30, 0), (31, 1), (90, 1), (91, 2), (400, 2)]
)
def test_bucket_edges(age_days: int, bucket: int) -> None:
    buckets, _ = aging.by_age([(TODAY - timedelta(days=age_days), 7_00)], 7_00, TODAY)
    assert buckets[bucket] == 7_00 and sum(buckets) == 7_00


@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(1, 10**9)), min_size=1, max_size=20),
    st.data(),
)
def test_the_buckets_always_add_up_to_the_balance(
    debits: list[tuple[int, int]], data: st.DataObject
) -> None:
    dated = [(TODAY - timedelta(days=age), amount) for age, amount in debits]
    balance = data.draw(st.integers(1, sum(amount for _, amount in debits)))
    buckets, oldest = aging.by_age(dated, balance, TODAY)
    assert sum(buckets) == balance and all(part >= 0 for part in buckets)
    assert oldest in {day for day, _ in dated}
