"""Calendar overrides and year confirmation (operators and admins; everyone reads)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import Reader, ReferenceData
from app.deps import ClockDep, SessionDep
from app.errors import NotFound
from app.http import StrictJSONRoute
from app.trail import service as trail
from app.workdays import service

router = APIRouter(prefix="/api/v1/calendar", route_class=StrictJSONRoute, tags=["calendar"])

Year = Annotated[int, Path(ge=service.CALENDAR_YEAR_MIN, le=service.CALENDAR_YEAR_MAX)]


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    working: bool
    note: Annotated[str, Field(max_length=200)] = ""


class DayOut(BaseModel):
    date: date
    working: bool
    official_working: bool
    override: bool


class YearOut(BaseModel):
    year: int
    confirmed: bool
    warning: str | None
    days: list[DayOut]


@router.get("/{year}")
def get_year(year: Year, _: Reader, session: SessionDep) -> YearOut:
    days = [DayOut.model_validate(row) for row in service.year_days(session, year)]
    return YearOut(
        year=year,
        confirmed=service.is_confirmed(session, year),
        warning=service.unconfirmed_warning(session, date(year, 1, 1)),
        days=days,
    )


@router.put("/overrides/{day}")
def set_override(
    day: date, body: OverrideIn, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> DayOut:
    """Make a date a working day or a day off; an override always wins."""
    if not service.CALENDAR_YEAR_MIN <= day.year <= service.CALENDAR_YEAR_MAX:
        raise NotFound(f"no calendar for {day.year}")
    now = clock.now()
    with session.begin():
        _, before = service.set_override(
            session, day=day, working=body.working, note=body.note, actor=actor.name, now=now
        )
        trail.record(
            session,
            actor=actor,
            action="calendar.override",
            entity="calendar",
            key=str(day),
            before=before,
            after=body.model_dump(),
            now=now,
        )
        calendar = service.load(session)
    from app.workdays.rules import official_is_working

    return DayOut(
        date=day,
        working=calendar.is_working(day),
        official_working=official_is_working(day),
        override=True,
    )


@router.delete("/overrides/{day}", status_code=204)
def remove_override(day: date, actor: ReferenceData, session: SessionDep, clock: ClockDep) -> None:
    with session.begin():
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
            now=clock.now(),
        )


@router.post("/years/{year}/confirm")
def confirm_year(
    year: Year, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> dict[str, object]:
    """Confirm the year's official schedule (the State Council's notice is entered)."""
    now = clock.now()
    with session.begin():
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
        return {"year": year, "confirmed_by": row.confirmed_by, "confirmed_at": row.confirmed_at}
