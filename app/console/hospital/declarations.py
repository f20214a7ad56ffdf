"""对账与申报: a month's days with their reconciliation state, the declaration's status and
deadline, and a declare button enabled only when the declaration service would accept it
(declarations.readiness: the same rule, read without writing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.auth.deps import Principal
from app.clock import Clock, period_add, period_of
from app.console.hospital import actions, messages, period_queries, queries
from app.console.hospital.common import (
    MONTH_RE,
    YEAR_MAX,
    YEAR_MIN,
    Hospital,
    notices,
    see_other,
    today,
)
from app.console.security import ConsoleRoute
from app.console.templating import render
from app.deps import ClockDep, SessionDep
from app.errors import DomainError

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/declarations"
DONE = {
    "declared": "已申报。该月的月度结算单将在申报截止后的第一个工作日计算。",
    "already": "该月此前已申报。",
}


def _choice(
    request: Request, session: Session, principal: Principal, clock: Clock
) -> tuple[str, str, list[str]]:
    """(insurance type, period, errors) from the query string, with sensible defaults."""
    errors = []
    options = queries.insutypes(session, principal)
    insutype = request.query_params.get("insutype", "")
    if insutype not in options:
        if insutype:
            errors.append("险种：本院未参加该险种")
        insutype = options[0] if options else "310"
    raw = request.query_params.get("period", "").strip()
    if raw and MONTH_RE.fullmatch(raw) and YEAR_MIN <= int(raw[:4]) <= YEAR_MAX:
        return insutype, raw, errors
    if raw:
        errors.append("月份：请按“2026-09”的格式填写")
    return (
        insutype,
        period_queries.default_period(session, principal, insutype, today(clock)),
        errors,
    )


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    clock: Clock,
    insutype: str,
    period: str,
    *,
    errors: list[str],
    status: int = 200,
) -> Response:
    now = today(clock)
    desk = period_queries.period_desk(session, principal, insutype, period, now)
    refusals = []
    if desk.readiness is not None:
        refusals = [messages.RULES.get(e.rule, e.message) for e in desk.readiness.refusals]
    return render(
        request,
        "hospital/declarations.html",
        {
            "title": "对账与申报",
            "desk": desk,
            "refusals": refusals,
            "insutypes": queries.insutypes(session, principal),
            "previous_period": period_add(period, -1),
            "next_period": period_add(period, 1) if period < period_of(now) else None,
            "today": now,
            "counts": {
                status: sum(1 for d in desk.days if d.status == status)
                for status in ("RECONCILED", "MISMATCHED", "UNRECONCILED", "NO_ACTIVITY")
            },
            "notices": notices(request, DONE),
            "errors": errors,
        },
        status=status,
    )


@router.get("/declarations", response_class=HTMLResponse)
def declarations_page(
    request: Request, principal: Hospital, session: SessionDep, clock: ClockDep
) -> Response:
    insutype, period, errors = _choice(request, session, principal, clock)
    return _page(
        request,
        session,
        principal,
        clock,
        insutype,
        period,
        errors=errors,
        status=422 if errors else 200,
    )


@router.post("/declarations")
def declare(
    request: Request,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    insutype: Annotated[str, Form(max_length=3)] = "",
    period: Annotated[str, Form(max_length=7)] = "",
) -> Response:
    if insutype not in queries.insutypes(session, principal) or not MONTH_RE.fullmatch(period):
        return _page(
            request,
            session,
            principal,
            clock,
            insutype if insutype in ("310", "390") else "310",
            period_of(today(clock)),
            errors=["请从页面选择险种和月份后再申报。"],
            status=422,
        )
    session.rollback()  # the check above read: the write gets its own transaction
    assert principal.fixmedins_code is not None
    try:
        with session.begin():
            created = actions.declare(
                session,
                principal.fixmedins_code,
                insutype,
                period,
                actor=principal,
                now=clock.now(),
            )
    except DomainError as error:
        if error.status == 404:
            raise
        return _page(
            request,
            session,
            principal,
            clock,
            insutype,
            period,
            errors=messages.chinese(error),
            status=error.status,
        )
    done = "declared" if created else "already"
    return see_other(f"{PATH}?insutype={insutype}&period={period}&done={done}")
