"""Records an operator keeps: procurement advances (药耗招采垫付, recovered from the monthly
statement) and annual assessments (年度考核, the clearing's scores and amounts)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.annual.schemas import AssessmentIn
from app.clock import business_date
from app.console.listing import Column, Filter, read_query
from app.console.office import actions, forms, queries
from app.console.office.common import Fields, OperatorUser, StaffUser, done, page, router
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.monthly.schemas import AdvanceIn

pages = router()


def _advance_columns() -> list[Column]:
    return [
        Column("垫付单号", lambda a: a.reference),
        Column("机构编号", lambda a: a.fixmedins_code),
        Column("险种", lambda a: a.insutype, "insutype"),
        Column("结算期", lambda a: a.period, "period"),
        Column("垫付金额", lambda a: a.amount_fen, "money"),
        Column("登记时间", lambda a: a.registered_at, "datetime"),
        Column("登记人", lambda a: a.registered_by),
        Column("抵扣月结单", lambda a: a.taken_statement_id, "int"),
    ]


def _advance_filters() -> list[Filter]:
    return [
        Filter("fixmedins_code", "机构编号", "text", pattern=r"[A-Z0-9]{1,12}"),
        Filter("period", "结算期", "month"),
    ]


def _advances_page(
    request: Request,
    principal: Any,
    session: Session,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    filters = _advance_filters()
    query = read_query(request.query_params, filters)
    rows = queries.advance_list(
        session, fixmedins_code=query.get("fixmedins_code"), period=query.get("period")
    )
    return page(
        request,
        "office/advances.html",
        principal,
        {
            "title": "药耗招采垫付",
            "filters": filters,
            "query": query,
            "columns": _advance_columns(),
            "rows": rows,
            "shown_max": queries.ADVANCES_MAX,
            "form": form or {},
            "errors": (errors or []) + query.errors,
        },
        status=422 if errors or query.errors else 200,
    )


@pages.get("/advances")
def advances_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    return _advances_page(request, principal, session)


@pages.post("/advances")
def register_advance(
    request: Request, fields: Fields, principal: OperatorUser, session: SessionDep, clock: ClockDep
) -> Response:
    data, errors = forms.parse(AdvanceIn, fields)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                created = actions.register_advance(writing, data, actor=principal, now=clock.now())
            return done("/console/advances", "advance" if created else "advance_same")
        except DomainError as error:
            errors = forms.refusal(
                error,
                on_conflict="该垫付单号已登记过，且内容不同；如需更正请使用新的单号",
                on_missing="没有这个机构",
            )
    return _advances_page(request, principal, session, errors=errors, form=fields)


# --- assessments --------------------------------------------------------------------------------


def _assessment_columns() -> list[Column]:
    return [
        Column("年度", lambda a: a.year, "int"),
        Column("机构编号", lambda a: a.fixmedins_code),
        Column("险种", lambda a: a.insutype, "insutype"),
        Column("考核得分", lambda a: f"{a.assessment_score / 100:.2f}"),
        Column("信用得分", lambda a: f"{a.credit_score / 100:.2f}"),
        Column("年度清算金额", lambda a: a.clearing_amount_fen, "money"),
        Column("年度预算", lambda a: a.budget_fen, "money"),
        Column("登记时间", lambda a: a.recorded_at, "datetime"),
        Column("登记人", lambda a: a.recorded_by),
    ]


def _assessments_page(
    request: Request,
    principal: Any,
    session: Session,
    clock: Any,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    this_year = business_date(clock.now()).year
    years = [(str(y), f"{y} 年") for y in range(this_year, this_year - 6, -1)]
    filters = [Filter("year", "年度", "select", options=years)]
    query = read_query(request.query_params, filters)
    year = int(query.get("year")) if query.get("year") else None
    return page(
        request,
        "office/assessments.html",
        principal,
        {
            "title": "年度考核",
            "filters": filters,
            "query": query,
            "columns": _assessment_columns(),
            "rows": queries.assessment_list(session, year=year),
            "default_year": this_year - 1,  # assessed after the year ends
            "form": form or {},
            "errors": (errors or []) + query.errors,
        },
        status=422 if errors or query.errors else 200,
    )


@pages.get("/assessments")
def assessments_page(
    request: Request, principal: StaffUser, session: SessionDep, clock: ClockDep
) -> Response:
    return _assessments_page(request, principal, session, clock)


@pages.post("/assessments")
def record_assessment(
    request: Request, fields: Fields, principal: OperatorUser, session: SessionDep, clock: ClockDep
) -> Response:
    data, errors = forms.parse(AssessmentIn, fields)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                created = actions.record_assessment(writing, data, actor=principal, now=clock.now())
            return done("/console/assessments", "assessment" if created else "assessment_same")
        except DomainError as error:
            errors = forms.refusal(
                error,
                on_conflict="该机构该年度的清算已生成，须医院先提出异议后才能修改考核结果",
                on_missing="没有这个机构",
            )
    return _assessments_page(request, principal, session, clock, errors=errors, form=fields)
