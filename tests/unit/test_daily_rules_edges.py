"""Edges of the daily rules (SPEC §3.3–3.5) not pinned by test_daily_rules.py."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.daily.rules import Detail, approvals_required, daily_amount, line_of, pay_date, ratio_on
from app.institutions.rules import Policy
from app.workdays.rules import WorkCalendar

CAL = WorkCalendar()
D = date(2026, 3, 6)


def _policy(start: date, ratio_bp: int) -> Policy:
    return Policy(start, True, ratio_bp, 500, time(14, 30), time(15), 15, 5, None)


@pytest.mark.parametrize(
    ("fund", "ratio", "daily"),
    [
        (0, 6000, 0),  # a zero settlement pays nothing
        (1_000_000, 0, 0),  # ratio 0
        (1_000_000, 10_000, 1_000_000),  # ratio 1: the whole fund amount
        (1, 5000, 1),  # 0.005 -> 0.01
        (3, 5000, 2),  # 0.015 -> 0.02
        (1, 4999, 0),  # 0.004999 -> 0.00
        (999, 6000, 599),  # 5.994 -> 5.99
        (1_000_000_000_000, 6000, 600_000_000_000),
    ],
)
def test_daily_amount_edges(fund: int, ratio: int, daily: int) -> None:
    assert daily_amount(fund, ratio) == daily


def test_a_line_of_zero_settlements_is_a_zero_line() -> None:
    line = line_of([Detail(D, 0, 6000), Detail(D, 0, 6000)], D)
    assert (line.settlement_count, line.fund_total_fen, line.amount_fen) == (2, 0, 0)
    assert line.late is False


def test_a_line_has_at_least_one_settlement() -> None:
    with pytest.raises(AssertionError):
        line_of([], D)


def test_a_line_is_late_only_for_settlements_dated_before_its_business_date() -> None:
    assert line_of([Detail(D, 100, 6000)], D).late is False
    assert line_of([Detail(D - timedelta(days=1), 100, 6000)], D).late is True
    # a weekend's batch holds the weekend's own date only: Saturday's settlement is not late
    saturday = date(2026, 3, 7)
    assert line_of([Detail(saturday, 1, 6000)], saturday).late is False


def test_a_line_keeps_each_settlements_ratio() -> None:
    # the ratio in force on each settlement's date applies (a change mid-batch)
    line = line_of([Detail(D, 1_000_000, 6000), Detail(D, 1_000_000, 7000)], D)
    assert line.amount_fen == 600_000 + 700_000


DETAILS = st.lists(
    st.builds(
        Detail,
        st.dates(date(2026, 2, 1), D),
        st.integers(0, 10**10),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=100)
@given(DETAILS)
def test_line_law(details: list[Detail]) -> None:
    """The total is the exact sum of rounded details; each detail within half a fen."""
    line = line_of(details, D)
    assert line.settlement_count == len(details)
    assert line.fund_total_fen == sum(d.fund_amount_fen for d in details)
    assert line.amount_fen == sum(d.daily_amount_fen for d in details)
    assert 0 <= line.amount_fen <= line.fund_total_fen
    for detail in details:
        exact = Decimal(detail.fund_amount_fen) * detail.ratio_bp / 10_000
        assert abs(detail.daily_amount_fen - exact) <= Decimal("0.5")
    assert line.late == any(d.setl_date < D for d in details)


def test_ratio_on_takes_versions_in_any_order() -> None:
    versions = [_policy(date(2026, 6, 1), 8000), _policy(date(2026, 1, 1), 6000)]
    assert ratio_on(versions, date(2026, 5, 31)) == 6000
    assert ratio_on(versions, date(2026, 6, 1)) == 8000
    assert ratio_on(versions, date(2026, 1, 1)) == 6000


def test_second_approval_threshold_edges() -> None:
    assert approvals_required(0, 0) == 1  # nothing above zero
    assert approvals_required(1, 0) == 2
    assert approvals_required(10**13, None) == 1  # off by default, whatever the amount


@pytest.mark.parametrize(
    ("business", "pay"),
    [
        (date(2026, 3, 5), date(2026, 3, 6)),  # Thursday -> Friday
        (date(2026, 3, 8), date(2026, 3, 9)),  # Sunday -> Monday
        (date(2026, 1, 3), date(2026, 1, 4)),  # worked Sunday 4 Jan after New Year
        (date(2025, 12, 31), date(2026, 1, 4)),  # New Year 1–3 Jan off
        (date(2026, 2, 28), date(2026, 3, 2)),  # worked Saturday -> Sunday off -> Monday
    ],
)
def test_pay_date_more_edges(business: date, pay: date) -> None:
    assert pay_date(CAL, business) == pay


def test_pay_date_follows_overrides() -> None:
    calendar = WorkCalendar({date(2026, 3, 9): False, date(2026, 3, 8): True})
    assert pay_date(calendar, date(2026, 3, 6)) == date(2026, 3, 8)  # worked Sunday
    assert pay_date(calendar, date(2026, 3, 8)) == date(2026, 3, 10)  # Monday off


@settings(max_examples=100)
@given(st.dates(date(2026, 1, 1), date(2026, 12, 31)))
def test_pay_date_law(business: date) -> None:
    """On or after D+1: a working day, and no working day between D+1 and it."""
    pay = pay_date(CAL, business)
    assert pay > business
    assert CAL.is_working(pay)
    day = business + timedelta(days=1)
    while day < pay:
        assert not CAL.is_working(day)
        day += timedelta(days=1)
