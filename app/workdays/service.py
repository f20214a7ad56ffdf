"""Calendar overrides and year confirmation, stored in the database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.workdays.models import CalendarOverride, CalendarYear
from app.workdays.rules import WorkCalendar, official_is_working

CALENDAR_YEAR_MIN = 2000
CALENDAR_YEAR_MAX = 2099


def load(session: Session) -> WorkCalendar:
    """The working-day calendar with every stored override (a small table)."""
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.working)).all()
    return WorkCalendar({day: working for day, working in rows})


def set_override(
    session: Session, *, day: date, working: bool, note: str, actor: str, now: datetime
) -> tuple[CalendarOverride, dict[str, object] | None]:
    """Store (or change) an override; returns it with the previous state for the trail."""
    assert CALENDAR_YEAR_MIN <= day.year <= CALENDAR_YEAR_MAX
    row = session.get(CalendarOverride, day)
    before = None
    if row is None:
        row = CalendarOverride(day=day, working=working, note=note, set_by=actor, set_at=now)
        session.add(row)
    else:
        before = {"working": row.working, "note": row.note}
        row.working, row.note, row.set_by, row.set_at = working, note, actor, now
    session.flush()
    return row, before


def remove_override(session: Session, *, day: date) -> bool:
    row = session.get(CalendarOverride, day)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def confirm_year(session: Session, *, year: int, actor: str, now: datetime) -> CalendarYear:
    """Idempotent: confirming a confirmed year returns the first confirmation."""
    assert CALENDAR_YEAR_MIN <= year <= CALENDAR_YEAR_MAX
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, confirmed_by=actor, confirmed_at=now)
        session.add(row)
        session.flush()
    alerts.resolve(session, kind="calendar_unconfirmed", subject=str(year), now=now)
    return row


def is_confirmed(session: Session, year: int) -> bool:
    return session.get(CalendarYear, year) is not None


def year_days(session: Session, year: int) -> list[dict[str, object]]:
    """Every date of a year with its working flag and where the flag comes from."""
    calendar = load(session)
    overrides = {
        row.day: row
        for row in session.scalars(
            select(CalendarOverride).where(
                CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31)
            )
        )
    }
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        days.append(
            {
                "date": day,
                "working": calendar.is_working(day),
                "official_working": official_is_working(day),
                "override": day in overrides,
            }
        )
        day = date.fromordinal(day.toordinal() + 1)
    return days


def unconfirmed_warning(session: Session, day: date) -> str | None:
    """Scheduling into a year an operator has not confirmed works, with this warning."""
    if is_confirmed(session, day.year):
        return None
    return f"{day.year}'s official schedule is not confirmed; dates use the holidays package"


def check_next_year_confirmed(session: Session, *, today: date, now: datetime) -> bool:
    """From 1 December, next year's missing confirmation is an alert (SPEC §2).
    Returns True when an alert stands."""
    if today.month != 12 or is_confirmed(session, today.year + 1):
        return False
    alerts.raise_alert(
        session,
        kind="calendar_unconfirmed",
        subject=str(today.year + 1),
        detail=f"the official schedule of {today.year + 1} is not confirmed",
        now=now,
    )
    return True
