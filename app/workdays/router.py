"""Calendar overrides and year confirmation (operators and admins; everyone reads)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import Reader, ReferenceData
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.workdays import operations, service
from app.workdays.rules import official_is_working

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
    with session.begin():
        operations.override(
            session, day=day, working=body.working, note=body.note, actor=actor, now=clock.now()
        )
        calendar = service.load(session)
    return DayOut(
        date=day,
        working=calendar.is_working(day),
        official_working=official_is_working(day),
        override=True,
    )


@router.delete("/overrides/{day}", status_code=204)
def remove_override(day: date, actor: ReferenceData, session: SessionDep, clock: ClockDep) -> None:
    with session.begin():
        operations.remove_override(session, day=day, actor=actor, now=clock.now())


@router.post("/years/{year}/confirm")
def confirm_year(
    year: Year, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> dict[str, object]:
    """Confirm the year's official schedule (the State Council's notice is entered)."""
    with session.begin():
        row = operations.confirm_year(session, year=year, actor=actor, now=clock.now())
        return {"year": year, "confirmed_by": row.confirmed_by, "confirmed_at": row.confirmed_at}
