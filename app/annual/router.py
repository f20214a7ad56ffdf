"""Annual clearing API: rules, assessments, clearings (confirm, dispute, approve), exports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app import xlsx
from app.annual import export, service
from app.annual.models import AnnualClearing, AnnualRule, Assessment
from app.annual.schemas import (
    AssessmentIn,
    AssessmentOut,
    BandOut,
    ClearingOut,
    ConfirmIn,
    DisputeIn,
    RulesIn,
    RulesOut,
)
from app.auth.deps import Operator, Reader, Staff
from app.deps import ClockDep, SessionDep
from app.errors import NotFound
from app.http import IdPath, StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor
from app.payables.machine import StatusValue
from app.payables.routes import add_document_actions, flow_fields, hospital_scope, page_out

router = APIRouter(prefix="/api/v1/annual", route_class=StrictJSONRoute, tags=["annual clearing"])


def _rules_out(row: AnnualRule) -> RulesOut:
    return RulesOut(
        year=row.year,
        assessment_bands=[
            BandOut(min_score=m / 100, return_ratio=r) for m, r in row.assessment_bands
        ],
        credit_bands=[BandOut(min_score=m / 100, return_ratio=r) for m, r in row.credit_bands],
        start_date=row.start_date,
        deadline=row.deadline,
    )


@router.post("/rules", status_code=201)
def set_rules(
    body: RulesIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> RulesOut:
    """A year's score bands (→ deposit return ratio), clearing start (default 10 Jan Y+1) and
    deadline (default 31 May Y+1)."""
    with session.begin():
        row, created = service.set_rules(session, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return _rules_out(row)


@router.get("/rules/{year}")
def get_rules(
    year: Annotated[int, Path(ge=2000, le=2099)], _: Reader, session: SessionDep
) -> RulesOut:
    row = session.get(AnnualRule, year)
    if row is None:
        raise NotFound(f"no rules for {year}")
    return _rules_out(row)


def _assessment_out(row: Assessment) -> AssessmentOut:
    """Scores in points (stored in hundredths), amounts in yuan."""
    scores: dict[str, Any] = {
        "assessment_score": row.assessment_score / 100,
        "credit_score": row.credit_score / 100,
    }
    keys: dict[str, Any] = {
        "year": row.year,
        "fixmedins_code": row.fixmedins_code,
        "insutype": row.insutype,
    }
    amounts: dict[str, Any] = {"clearing_amount": row.clearing_amount_fen, "budget": row.budget_fen}
    return AssessmentOut(**keys, **scores, **amounts)


@router.post("/assessments", status_code=201)
def record_assessment(
    body: AssessmentIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> AssessmentOut:
    """Assessment and credit scores, optional confirmed clearing amount (年度医保基金清算金额)
    and annual budget cap."""
    with session.begin():
        row, created = service.record_assessment(session, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return _assessment_out(row)


@router.get("/assessments")
def list_assessments(_: Staff, session: SessionDep, year: int | None = None) -> list[AssessmentOut]:
    query = (
        select(Assessment)
        .order_by(Assessment.year, Assessment.fixmedins_code, Assessment.insutype)
        .limit(10_000)
    )
    if year is not None:
        query = query.where(Assessment.year == year)
    return [_assessment_out(row) for row in session.scalars(query)]


def clearing_out(c: AnnualClearing) -> ClearingOut:
    return ClearingOut(
        **flow_fields(c),
        year=c.year,
        approved_fund=c.approved_fund_fen,
        clearing_amount=c.clearing_amount_fen,
        settled=c.settled_fen,
        deposit_held=c.deposit_held_fen,
        return_ratio=c.return_ratio_bp,
        forfeited=c.forfeited_fen,
        gross=c.gross_fen,
        offset=c.offset_fen,
        actual=c.actual_fen,
        base=c.base,
        confirmation_reference=c.confirmation_reference,
    )


@router.get("/clearings")
def list_clearings(
    principal: Reader,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2099)] = None,
    status: StatusValue | None = None,
    fixmedins_code: str | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[ClearingOut]:
    rows = service.list_clearings(
        session,
        year=year,
        status=status,
        fixmedins_code=hospital_scope(principal, fixmedins_code),
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    return page_out(rows, limit, clearing_out)


@router.get("/clearings/export.xlsx", response_class=StreamingResponse)
def export_clearings(
    _: Staff, session: SessionDep, clock: ClockDep, year: int | None = None
) -> StreamingResponse:
    """The clearing list as XLSX: one row per clearing, totals, names."""
    rows = service.list_clearings(
        session, year=year, status=None, fixmedins_code=None, after_id=None, limit=100_000
    )
    book = export.clearing_list(session, rows, year=year, now=clock.now())
    return xlsx.response(book, f"clearings-{year or 'all'}.xlsx")


@router.get("/clearings/{clearing_id}")
def get_clearing(clearing_id: IdPath, principal: Reader, session: SessionDep) -> ClearingOut:
    return clearing_out(service.FLOW.get(session, clearing_id, actor=principal))


@router.get("/clearings/{clearing_id}/export.xlsx", response_class=StreamingResponse)
def export_clearing(
    clearing_id: IdPath, principal: Reader, session: SessionDep, clock: ClockDep
) -> StreamingResponse:
    """One clearing with its base data (the statements of the year) as XLSX."""
    clearing = service.FLOW.get(session, clearing_id, actor=principal)
    book = export.clearing_detail(session, clearing, now=clock.now())
    return xlsx.response(book, f"clearing-{clearing.id}.xlsx")


CLEARING_ACTIONS = {
    "confirm": "The hospital confirms (清算确认), optionally with a stamped document's reference.",
    "approve": "Approve (maker–checker): postings of SPEC §6; actual > 0 paid with the next"
    " submission.",
}
add_document_actions(router, service.FLOW, clearing_out, (ConfirmIn, DisputeIn), CLEARING_ACTIONS)
