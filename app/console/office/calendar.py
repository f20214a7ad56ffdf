"""The working-day calendar of a year as twelve month grids: an operator (or admin) overrides a
day and confirms the year (SPEC §2); everyone on staff reads it."""

from __future__ import annotations

import calendar as months
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.clock import business_date
from app.console.office import actions, forms, queries
from app.console.office.common import Fields, ReferenceUser, StaffUser, done, page, router
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.workdays.service import CALENDAR_YEAR_MAX, CALENDAR_YEAR_MIN

pages = router()
Year = Annotated[int, Path(ge=CALENDAR_YEAR_MIN, le=CALENDAR_YEAR_MAX)]
MONTH_NAMES = [f"{n}月" for n in range(1, 13)]


class OverrideForm(BaseModel):
    """The API's OverrideIn with the date it is for."""

    model_config = ConfigDict(extra="forbid")
    day: date
    working: bool
    note: Annotated[str, Field(max_length=200)] = ""


def _grid(view: queries.CalendarYearView, today: date, chosen: date | None) -> list[Any]:
    """Twelve months of weeks (Monday first); a blank cell is None."""
    by_day = {row["date"]: row for row in view.days}
    grid = []
    for month in range(1, 13):
        weeks = []
        for week in months.Calendar(firstweekday=0).monthdatescalendar(view.year, month):
            cells: list[dict[str, Any] | None] = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                row = by_day[day]
                cells.append(
                    {
                        **row,
                        "note": view.notes.get(day, ""),
                        "today": day == today,
                        "chosen": day == chosen,
                    }
                )
            weeks.append(cells)
        grid.append({"name": MONTH_NAMES[month - 1], "weeks": weeks})
    return grid


def _calendar_page(
    request: Request,
    principal: Any,
    session: Any,
    year: int,
    clock: Any,
    *,
    chosen: date | None,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    view = queries.calendar_year(session, year)
    chosen_row = next((row for row in view.days if row["date"] == chosen), None)
    return page(
        request,
        "office/calendar.html",
        principal,
        {
            "title": f"{year} 年工作日历",
            "year": year,
            "view": view,
            "grid": _grid(view, business_date(clock.now()), chosen),
            "working_count": sum(1 for row in view.days if row["working"]),
            "override_count": sum(1 for row in view.days if row["override"]),
            "chosen": chosen,
            "chosen_row": chosen_row,
            "chosen_note": view.notes.get(chosen, "") if chosen else "",
            "form": form or {},
            "errors": errors or [],
            "year_min": CALENDAR_YEAR_MIN,
            "year_max": CALENDAR_YEAR_MAX,
        },
        status=422 if errors else 200,
    )


@pages.get("/calendar")
def calendar_now(_: StaffUser, clock: ClockDep) -> Response:
    return RedirectResponse(f"/console/calendar/{business_date(clock.now()).year}", 303)


@pages.get("/calendar/{year}")
def calendar_year(
    request: Request, year: Year, principal: StaffUser, session: SessionDep, clock: ClockDep
) -> Response:
    chosen = None
    raw = request.query_params.get("day", "")
    if raw:
        try:
            chosen = date.fromisoformat(raw[:10])
        except ValueError:
            chosen = None
    return _calendar_page(request, principal, session, year, clock, chosen=chosen)


@pages.post("/calendar/{year}/overrides")
def override_day(
    request: Request,
    year: Year,
    fields: Fields,
    principal: ReferenceUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    data, errors = forms.parse(OverrideForm, fields)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.override_day(
                    writing, data.day, data.working, data.note, actor=principal, now=clock.now()
                )
            return done(f"/console/calendar/{data.day.year}?day={data.day}", "override")
        except DomainError as error:
            errors = forms.refusal(error, on_missing="该年份没有工作日历（2000–2099 年）")
    return _calendar_page(
        request, principal, session, year, clock, chosen=None, errors=errors, form=fields
    )


@pages.post("/calendar/{year}/overrides/remove")
def remove_override(
    request: Request,
    year: Year,
    fields: Fields,
    principal: ReferenceUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    try:
        day = date.fromisoformat(fields.get("day", ""))
    except ValueError:
        errors = ["日期：请按“2026-09-01”的格式填写日期"]
    else:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.remove_override(writing, day, actor=principal, now=clock.now())
            return done(f"/console/calendar/{day.year}?day={day}", "override_removed")
        except DomainError as error:
            errors = forms.refusal(error, on_missing="该日期没有人工设置，无需恢复")
    return _calendar_page(request, principal, session, year, clock, chosen=None, errors=errors)


@pages.post("/calendar/{year}/confirm")
def confirm_year(
    request: Request, year: Year, principal: ReferenceUser, clock: ClockDep
) -> Response:
    with transaction(request.app.state.session_factory) as writing:
        actions.confirm_year(writing, year, actor=principal, now=clock.now())
    return done(f"/console/calendar/{year}", "confirmed")
