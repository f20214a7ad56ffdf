"""Time is injected (STYLE.md 10): one Clock gives now(); business dates are Shanghai dates."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """An offset-aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to (scenario runner, tests). Thread-safe reads."""

    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None, "simulated time must be offset-aware"
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        assert moment.tzinfo is not None
        with self._lock:
            assert moment >= self._now, "simulated time never goes back"
            self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta


def shanghai(moment: datetime) -> datetime:
    assert moment.tzinfo is not None, "naive datetimes are refused"
    return moment.astimezone(SHANGHAI)


def business_date(moment: datetime) -> date:
    """The Shanghai calendar date of an instant."""
    return shanghai(moment).date()


def at_shanghai(day: date, clock_time: time) -> datetime:
    """The UTC instant of a Shanghai wall-clock time on a business date."""
    return datetime.combine(day, clock_time, tzinfo=SHANGHAI).astimezone(UTC)


def period_of(day: date) -> str:
    """The settlement period (YYYY-MM) a date falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def period_start(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def period_add(period: str, months: int) -> str:
    first = period_start(period)
    index = first.year * 12 + (first.month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_end(period: str) -> date:
    return period_start(period_add(period, 1)) - timedelta(days=1)
