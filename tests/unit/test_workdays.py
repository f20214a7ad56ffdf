from datetime import date, timedelta

import pytest

from app.workdays.rules import CalendarError, WorkCalendar

CAL = WorkCalendar()


def test_2026_new_year() -> None:
    # 1–3 Jan off, Sunday 4 Jan worked
    assert not CAL.is_working(date(2026, 1, 1))
    assert not CAL.is_working(date(2026, 1, 2))
    assert not CAL.is_working(date(2026, 1, 3))
    assert CAL.is_working(date(2026, 1, 4))
    assert CAL.is_working(date(2026, 1, 5))


def test_2026_spring_festival() -> None:
    # 15–23 Feb off; Saturdays 14 Feb and 28 Feb worked
    for day in range(15, 24):
        assert not CAL.is_working(date(2026, 2, day)), day
    assert CAL.is_working(date(2026, 2, 14))
    assert CAL.is_working(date(2026, 2, 28))
    assert CAL.is_working(date(2026, 2, 13))
    assert CAL.is_working(date(2026, 2, 24))


def test_2026_national_day() -> None:
    # 1–7 Oct off; Sunday 20 Sep and Saturday 10 Oct worked
    for day in range(1, 8):
        assert not CAL.is_working(date(2026, 10, day)), day
    assert CAL.is_working(date(2026, 9, 20))
    assert CAL.is_working(date(2026, 10, 10))
    assert CAL.is_working(date(2026, 10, 8))


def test_ordinary_weekend() -> None:
    assert not CAL.is_working(date(2026, 3, 7))  # Saturday
    assert not CAL.is_working(date(2026, 3, 8))  # Sunday
    assert CAL.is_working(date(2026, 3, 9))


def test_on_or_after_versus_after() -> None:
    friday, saturday, monday = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 9)
    assert CAL.on_or_after(friday) == friday
    assert CAL.after(friday) == monday
    assert CAL.on_or_after(saturday) == monday
    assert CAL.after(saturday) == monday


def test_nth_working_day_across_spring_festival() -> None:
    # Thursday 12 Feb: 13 (Fri), 14 (worked Sat), 24, 25, 26
    assert CAL.nth_after(date(2026, 2, 12), 1) == date(2026, 2, 13)
    assert CAL.nth_after(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert CAL.nth_after(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert CAL.nth_after(date(2026, 2, 12), 5) == date(2026, 2, 26)
    # pay date of a batch generated on Spring Festival eve waits until the 24th
    assert CAL.on_or_after(date(2026, 2, 16)) == date(2026, 2, 24)


def test_nth_after_across_national_day() -> None:
    assert CAL.nth_after(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.nth_after(date(2026, 9, 30), 3) == date(2026, 10, 10)  # worked Saturday


def test_overrides_always_win() -> None:
    calendar = WorkCalendar(
        {date(2026, 3, 16): False, date(2026, 3, 7): True, date(2026, 2, 14): False}
    )
    assert not calendar.is_working(date(2026, 3, 16))
    assert calendar.is_working(date(2026, 3, 7))
    assert not calendar.is_working(date(2026, 2, 14))
    assert calendar.on_or_after(date(2026, 3, 16)) == date(2026, 3, 17)
    assert calendar.after(date(2026, 3, 6)) == date(2026, 3, 7)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 3, 6), date(2026, 3, 13)) == 5


def test_a_calendar_without_working_days_is_an_error() -> None:
    start = date(2030, 1, 1)
    calendar = WorkCalendar({start + timedelta(days=i): False for i in range(400)})
    with pytest.raises(CalendarError):
        calendar.on_or_after(start)
