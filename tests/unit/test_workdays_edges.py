"""Edges of the working-day calendar (SPEC §2, docs/rules.md "Working days") not pinned by
test_workdays.py: the two deadline functions as laws, empty ranges, the 60-day limit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workdays.rules import DAYS_OFF_IN_A_ROW_MAX, CalendarError, WorkCalendar

CAL = WorkCalendar()
DAYS_2026 = st.dates(date(2026, 1, 1), date(2026, 12, 31))


def test_nth_after_needs_at_least_one_working_day() -> None:
    with pytest.raises(AssertionError):
        CAL.nth_after(date(2026, 3, 6), 0)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 3, 6), date(2026, 3, 6), 0),  # empty range
        (date(2026, 3, 9), date(2026, 3, 6), 0),  # end before start
        (date(2026, 3, 6), date(2026, 3, 9), 1),  # the start does not count, the end does
        (date(2026, 3, 5), date(2026, 3, 6), 1),
        (date(2026, 3, 6), date(2026, 3, 8), 0),  # a weekend only
        (date(2026, 2, 12), date(2026, 2, 24), 3),  # 13, 14 (worked Sat), 24
        (date(2026, 9, 30), date(2026, 10, 10), 3),  # 8, 9, 10 (worked Sat)
        (date(2026, 9, 30), date(2026, 10, 7), 0),  # National Day
    ],
)
def test_working_days_between_counts_start_exclusive_end_inclusive(
    start: date, end: date, count: int
) -> None:
    assert CAL.working_days_between(start, end) == count


def test_an_override_makes_a_holiday_a_working_day() -> None:
    calendar = WorkCalendar({date(2026, 10, 1): True})
    assert calendar.is_working(date(2026, 10, 1))
    assert calendar.after(date(2026, 9, 30)) == date(2026, 10, 1)
    assert calendar.nth_after(date(2026, 9, 30), 2) == date(2026, 10, 8)
    assert not WorkCalendar().is_working(date(2026, 10, 1))  # the override is per calendar


def test_sixty_days_off_in_a_row_are_searched_through_and_more_are_an_error() -> None:
    start = date(2030, 1, 1)
    days_off = {start + timedelta(days=i): False for i in range(DAYS_OFF_IN_A_ROW_MAX)}
    assert DAYS_OFF_IN_A_ROW_MAX == 60  # docs/rules.md
    reachable = WorkCalendar(days_off | {start + timedelta(days=60): True})
    assert reachable.on_or_after(start) == start + timedelta(days=60)
    too_many = days_off | {start + timedelta(days=60): False, start + timedelta(days=61): True}
    with pytest.raises(CalendarError):
        WorkCalendar(too_many).on_or_after(start)


@settings(max_examples=100)
@given(DAYS_2026)
def test_on_or_after_and_after_laws(day: date) -> None:
    on_or_after = CAL.on_or_after(day)
    after = CAL.after(day)
    assert CAL.is_working(on_or_after) and CAL.is_working(after)
    assert on_or_after == (day if CAL.is_working(day) else after)
    assert after > day
    assert CAL.working_days_between(day, after) == 1
    assert CAL.working_days_between(day, on_or_after) == (0 if on_or_after == day else 1)


@settings(max_examples=100)
@given(DAYS_2026, st.integers(1, 25))
def test_nth_after_law(day: date, n: int) -> None:
    nth = CAL.nth_after(day, n)
    assert CAL.is_working(nth)
    assert CAL.working_days_between(day, nth) == n
    if n > 1:
        assert nth == CAL.after(CAL.nth_after(day, n - 1))
