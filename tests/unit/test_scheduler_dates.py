"""The business date of a scheduled run is that of the day it was due, even when it runs
late (within the misfire grace) past midnight."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

from app.clock import SHANGHAI
from jobs.registry import JOBS
from jobs.scheduler import fire_day


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def test_a_late_run_keeps_the_day_it_was_due() -> None:
    batch = JOBS["daily_batch"]  # 00:30, for the day before
    assert fire_day(batch, _at(date(2026, 3, 7), 0, 30)) == date(2026, 3, 7)
    assert fire_day(batch, _at(date(2026, 3, 7), 1, 25)) == date(2026, 3, 7)
    assert batch.business_date(fire_day(batch, _at(date(2026, 3, 7), 1, 25))) == date(2026, 3, 6)
    late_evening = replace(batch, at=time(23, 45))
    assert fire_day(late_evening, _at(date(2026, 3, 7), 23, 45)) == date(2026, 3, 7)
    assert fire_day(late_evening, _at(date(2026, 3, 8), 0, 20)) == date(2026, 3, 7)
