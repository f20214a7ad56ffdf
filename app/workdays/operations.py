"""An operator's changes to the calendar with their audit trail: the one place the API and
the console both call (service.py keeps the rows; this adds who did it)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import NotFound
from app.trail import service as trail
from app.workdays import service
from app.workdays.models import CalendarYear


def override(
    session: Session, *, day: date, working: bool, note: str, actor: Principal, now: datetime
) -> None:
    """Make a date a working day or a day off (an override always wins); in the trail."""
    if not service.CALENDAR_YEAR_MIN <= day.year <= service.CALENDAR_YEAR_MAX:
        raise NotFound(f"no calendar for {day.year}")
    _, before = service.set_override(
        session, day=day, working=working, note=note, actor=actor.name, now=now
    )
    trail.record(
        session,
        actor=actor,
        action="calendar.override",
        entity="calendar",
        key=str(day),
        before=before,
        after={"working": working, "note": note},
        now=now,
    )


def remove_override(session: Session, *, day: date, actor: Principal, now: datetime) -> None:
    """The official schedule again for that date; 404 when the date has no override."""
    if not service.remove_override(session, day=day):
        raise NotFound(f"no override on {day}")
    trail.record(
        session,
        actor=actor,
        action="calendar.override_removed",
        entity="calendar",
        key=str(day),
        before=None,
        after=None,
        now=now,
    )


def confirm_year(session: Session, *, year: int, actor: Principal, now: datetime) -> CalendarYear:
    """Confirm the year's official schedule; idempotent (the first confirmation stands)."""
    row = service.confirm_year(session, year=year, actor=actor.name, now=now)
    trail.record(
        session,
        actor=actor,
        action="calendar.confirm",
        entity="calendar",
        key=str(year),
        before=None,
        after={"confirmed_by": row.confirmed_by},
        now=now,
    )
    return row
