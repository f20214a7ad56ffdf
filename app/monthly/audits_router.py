"""Monthly settlement API, smart audit (智能审核): initial results, appeals, re-review and
consultation. Included by the monthly router (`router.py`) under its prefix."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from app.auth.deps import Hospital, Operator, Reader, scope
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.monthly import audits
from app.monthly.models import AuditItem
from app.monthly.schemas import (
    AppealIn,
    AuditIn,
    AuditOut,
    AuditStepOut,
    BulkAuditIn,
    ConsultationIn,
    ReviewIn,
)
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(route_class=StrictJSONRoute)


def _audit_out(
    session: Session, item: AuditItem, setl_id: str, with_history: bool = True
) -> AuditOut:
    history = (
        [
            AuditStepOut(action=s.action, amount=s.amount_fen, note=s.note, at=s.at, actor=s.actor)
            for s in audits.steps(session, item)
        ]
        if with_history
        else []
    )
    return AuditOut(
        fixmedins_code=item.fixmedins_code,
        setl_id=setl_id,
        rule_code=item.rule_code,
        period=item.period,
        reason=item.reason,
        status=item.status,
        initial_amount=item.initial_amount_fen,
        final_amount=item.final_amount_fen,
        result_date=item.result_date,
        appeal_deadline=item.appeal_deadline,
        taken_statement_id=item.taken_statement_id,
        history=history,
    )


@router.post("/audits", status_code=201)
def record_audit(
    body: AuditIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> AuditOut:
    """An initial smart-audit result (智能审核); the same again returns it."""
    with session.begin():
        item, created = audits.record(
            session,
            code=body.fixmedins_code,
            setl_id=body.setl_id,
            rule_code=body.rule_code,
            amount_fen=body.amount,
            reason=body.reason,
            actor=actor,
            now=clock.now(),
        )
        if not created:
            response.status_code = 200
        return _audit_out(session, item, body.setl_id)


@router.post("/audits/bulk")
def record_audits(
    body: BulkAuditIn, actor: Operator, session: SessionDep, clock: ClockDep
) -> dict[str, object]:
    """Import initial results; each item judged on its own (one savepoint each)."""
    with session.begin():
        results = audits.record_bulk(session, body.items, actor=actor, now=clock.now())
    return {"results": results}


@router.get("/audits")
def list_audits(
    principal: Reader,
    session: SessionDep,
    fixmedins_code: str | None = None,
    status: Literal["INITIAL", "APPEALED", "REVIEWED", "FINAL"] | None = None,
    period: str | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[AuditOut]:
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    rows = audits.list_items(
        session,
        fixmedins_code=fixmedins_code,
        status=status,
        period=period,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row[0].id)
    return Page(
        items=[_audit_out(session, item, setl_id, False) for item, setl_id in page],
        next_cursor=next_cursor,
    )


@router.get("/audits/{fixmedins_code}/{setl_id}/{rule_code}")
def get_audit(
    fixmedins_code: str, setl_id: str, rule_code: str, principal: Reader, session: SessionDep
) -> AuditOut:
    scope(principal, fixmedins_code)
    return _audit_out(session, audits.get(session, fixmedins_code, setl_id, rule_code), setl_id)


@router.post("/audits/{fixmedins_code}/{setl_id}/{rule_code}/appeal")
def appeal(
    fixmedins_code: str,
    setl_id: str,
    rule_code: str,
    body: AppealIn,
    actor: Hospital,
    session: SessionDep,
    clock: ClockDep,
) -> AuditOut:
    """The hospital appeals (申诉) within the window (5 working days by default)."""
    with session.begin():
        item = audits.appeal(
            session, fixmedins_code, setl_id, rule_code, body.reason, actor=actor, now=clock.now()
        )
        return _audit_out(session, item, setl_id)


@router.post("/audits/{fixmedins_code}/{setl_id}/{rule_code}/review")
def review(
    fixmedins_code: str,
    setl_id: str,
    rule_code: str,
    body: ReviewIn,
    actor: Operator,
    session: SessionDep,
    clock: ClockDep,
) -> AuditOut:
    """Re-review (复审) of an appealed result: final, or on to consultation."""
    with session.begin():
        item = audits.review(
            session,
            fixmedins_code,
            setl_id,
            rule_code,
            body.amount,
            body.final,
            actor=actor,
            now=clock.now(),
        )
        return _audit_out(session, item, setl_id)


@router.post("/audits/{fixmedins_code}/{setl_id}/{rule_code}/consultation")
def consultation(
    fixmedins_code: str,
    setl_id: str,
    rule_code: str,
    body: ConsultationIn,
    actor: Operator,
    session: SessionDep,
    clock: ClockDep,
) -> AuditOut:
    """Consultation (合议) fixes the final amount."""
    with session.begin():
        item = audits.consultation(
            session, fixmedins_code, setl_id, rule_code, body.amount, actor=actor, now=clock.now()
        )
        return _audit_out(session, item, setl_id)
