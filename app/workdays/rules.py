"""China's working-day calendar (SPEC.md §2): official schedule plus operator overrides.

Pure: no database, no clock. The official schedule comes from `holidays.China`: its holidays
are days off, its `weekend_workdays` are the Saturdays/Sundays worked to make up for them
(调休). An override always wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache

import holidays

# A calendar with more than this many consecutive days off is a configuration error.
DAYS_OFF_IN_A_ROW_MAX = 60


class CalendarError(ValueError):
    pass


@lru_cache(maxsize=64)
def official_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off that are holidays, weekend days that are worked) of one year."""
    china = holidays.China(years=year)
    days_off = frozenset(day for day in china if day.year == year)
    worked = frozenset(day for day in getattr(china, "weekend_workdays", ()) if day.year == year)
    return days_off, worked


def official_is_working(day: date) -> bool:
    days_off, worked = official_year(day.year)
    if day in worked:
        return True
    if day in days_off:
        return False
    return day.weekday() < 5


class WorkCalendar:
    """Working days with overrides; the two deadline functions of SPEC.md §2."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def is_working(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override
        return official_is_working(day)

    def on_or_after(self, day: date) -> date:
        """`day` itself if it is a working day, else the next working day."""
        for offset in range(DAYS_OFF_IN_A_ROW_MAX + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working(candidate):
                return candidate
        raise CalendarError(f"no working day within {DAYS_OFF_IN_A_ROW_MAX} days of {day}")

    def after(self, day: date) -> date:
        """The first working day strictly later than `day`."""
        return self.on_or_after(day + timedelta(days=1))

    def nth_after(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n >= 1): `after` repeated n times."""
        assert n >= 1, "n counts working days after the date"
        result = day
        for _ in range(n):
            result = self.after(result)
        return result

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end."""
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            count += self.is_working(day)
            day += timedelta(days=1)
        return count
