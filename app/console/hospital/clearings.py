"""年度清算: the institution's annual clearings with their components, confirmation (in the
system, optionally with the reference of the stamped document) or dispute, and the printable
年度清算确认书."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.annual import service as annual
from app.console.hospital import actions, document_forms, document_queries, documents
from app.console.hospital.common import (
    Hospital,
    notices,
    today,
)
from app.console.listing import Column
from app.console.security import ConsoleRoute
from app.console.templating import render
from app.deps import ClockDep, SessionDep
from app.http import IdPath
from app.institutions import service as institutions

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/clearings"
DONE = {
    "confirmed": "已确认年度清算结果。基金财务审批后拨付。",
    "disputed": "已提出异议，年度清算退回医保经办机构复核。",
}

COLUMNS = [
    Column("清算年度", lambda c: f"{c.year}年度", link=lambda c: f"{PATH}/{c.id}"),
    Column("险种", lambda c: c.insutype, "insutype"),
    Column("年度清算金额", lambda c: c.clearing_amount_fen, "money"),
    Column("已月度结算拨付", lambda c: c.settled_fen, "money"),
    Column("不予返还的质量保证金", lambda c: c.forfeited_fen, "money"),
    Column("抵扣应收款", lambda c: c.offset_fen, "money"),
    Column("年清算实付", lambda c: c.actual_fen, "money"),
    Column("状态", lambda c: c.status, "status", status_kind="clearing"),
]


@router.get("/clearings", response_class=HTMLResponse)
def clearing_list(request: Request, principal: Hospital, session: SessionDep) -> Response:
    rows = document_queries.clearing_rows(session, principal)
    return render(
        request,
        "hospital/clearings.html",
        {"title": "年度清算", "columns": COLUMNS, "rows": rows},
    )


def _context(session: Session, principal: Hospital, clearing_id: int) -> dict[str, Any]:
    clearing = annual.FLOW.get(session, clearing_id, actor=principal)
    return {
        "clearing": clearing,
        "institution": institutions.get_institution(session, clearing.fixmedins_code),
        "region": institutions.get_region(session, clearing.region_code),
        "components": documents.clearing_components(clearing),
        "outcome": documents.clearing_outcome(clearing),
        "payments": document_queries.clearing_payments(session, clearing),
    }


def _detail(
    request: Request,
    session: Session,
    principal: Hospital,
    clearing_id: int,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    context = _context(session, principal, clearing_id)
    return render(
        request,
        "hospital/clearing.html",
        {
            "title": f"年度清算 {context['clearing'].year}",
            **context,
            "notices": notices(request, DONE),
            "errors": errors or [],
            "form": form or {},
        },
        status=status,
    )


@router.get("/clearings/{clearing_id}", response_class=HTMLResponse)
def clearing_page(
    request: Request, clearing_id: IdPath, principal: Hospital, session: SessionDep
) -> Response:
    return _detail(request, session, principal, clearing_id)


@router.post("/clearings/{clearing_id}/confirm")
def confirm(
    request: Request,
    clearing_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    reference: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return document_forms.confirm(
        request,
        session,
        principal,
        clearing_id,
        reference,
        detail=_detail,
        act=lambda reference: actions.confirm_clearing(
            session, clearing_id, reference, actor=principal, now=clock.now()
        ),
        reference_name="确认书编号",
        path=PATH,
    )


@router.post("/clearings/{clearing_id}/dispute")
def dispute(
    request: Request,
    clearing_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    return document_forms.dispute(
        request,
        session,
        principal,
        clearing_id,
        reason,
        detail=_detail,
        act=lambda reason: actions.dispute_clearing(
            session, clearing_id, reason, actor=principal, now=clock.now()
        ),
        path=PATH,
    )


@router.get("/clearings/{clearing_id}/print", response_class=HTMLResponse)
def clearing_print(
    request: Request,
    clearing_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """年度清算确认书: the form the hospital prints, signs and seals."""
    context = _context(session, principal, clearing_id)
    return render(
        request,
        "hospital/clearing_print.html",
        {"title": "年度清算确认书", **context, "printed_on": today(clock)},
    )
