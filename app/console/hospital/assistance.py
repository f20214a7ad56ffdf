"""救助结算单: the institution's monthly assistance statements (SPEC-ASSISTANCE A5: what it
advanced as `maf_pay`, paid from the 610 fund), one statement (lines, negative lines, offset,
carried settlements, payments) with confirm / dispute as the monthly statements have, and the
documents of a settlement (材料: 疾病诊断证明书, 救助结算单, 垫付统计表) recorded for the
settlements no statement has paid yet. Only the person's own institution; another's
statement is a 404 page, as in the API."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.assistance import documents
from app.assistance import statements as assistance_statements
from app.assistance.statement_models import DOCUMENT_TYPES
from app.console import assistance_labels as names
from app.console.hospital import assistance_queries as queries
from app.console.hospital import document_forms
from app.console.hospital.common import (
    Hospital,
    notices,
    page_urls,
    see_other,
)
from app.console.hospital.documents import Component
from app.console.listing import Column, Filter, ListQuery, read_query
from app.console.security import ConsoleRoute
from app.console.statuses import label
from app.console.templating import render
from app.deps import ClockDep, SessionDep
from app.http import IdPath
from app.institutions import service as institutions
from app.payables.machine import DocumentStatus

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/assistance-statements"

SETL_ID_CHARS_MAX = 30
DONE = {
    "confirmed": "已确认本救助结算单。基金财务审批后从医疗救助基金拨付。",
    "disputed": "已提出异议，救助结算单退回医保经办机构复核后重新计算。",
    "recorded": "材料已登记。三项材料齐全的结算纳入下一张救助结算单。",
    "none": "未登记：请勾选要登记的材料。",
}
OUTCOME = {
    "APPROVED": "已审批，等待银行拨付。",
    "PAID": "已拨付到本院账户。",
    "FAILED": "银行拨付失败，等待基金财务重新审批后重发。",
    "RETURNED": "银行退票，由后续单据重新拨付。",
    "SETTLED": "金额为零，已结清。",
    "RECEIVABLE": "金额为负，形成本院应退还医疗救助基金的应收款，"
    "由以后的救助结算单抵扣或现金退还。",
}

COLUMNS = [
    Column("结算期", lambda s: s.period, "period", link=lambda s: f"{PATH}/{s.id}"),
    Column("本期救助垫付", lambda s: s.lines_fen, "money"),
    Column("撤销冲回", lambda s: s.negative_fen, "money"),
    Column("下期抵扣", lambda s: s.offset_fen, "money"),
    Column("救助拨付金额", lambda s: s.amount_fen, "money"),
    Column("结算笔数", lambda s: s.settlements, "int"),
    Column("材料不齐顺延", lambda s: s.carried, "int"),
    Column("状态", lambda s: s.status, "status", status_kind="assistance_statement"),
]


def _filters() -> list[Filter]:
    options = [(s.value, label(s.value, "assistance_statement")[0]) for s in DocumentStatus]
    return [
        Filter("period", "结算期", "month"),
        Filter("status", "状态", "select", options=options),
    ]


def _code(principal: Hospital) -> str:
    assert principal.fixmedins_code is not None, "a hospital's person has an institution"
    return principal.fixmedins_code


@router.get("/assistance-statements", response_class=HTMLResponse)
def statement_list(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters()
    query: ListQuery = read_query(request.query_params, filters)
    rows = queries.statement_rows(
        session,
        _code(principal),
        period=query.get("period"),
        status=query.get("status"),
        before_id=query.after_id,
        limit=query.limit + 1,
    )
    page, more = rows[: query.limit], len(rows) > query.limit
    return render(
        request,
        "hospital/assistance_statements.html",
        {
            "title": "救助结算单",
            "filters": filters,
            "query": query,
            "columns": COLUMNS,
            "rows": page,
            "pending": queries.pending(session, _code(principal)),
            "names": names,
            "notices": notices(request, DONE),
            "errors": query.errors,
            **page_urls(query, PATH, page, more),
        },
        status=422 if query.errors else 200,
    )


def _components(s: Any) -> list[Component]:
    rows = [
        Component(
            "本期救助垫付",
            s.lines_fen,
            f"{s.settlements} 笔材料齐全的一站式结算中本院垫付的医疗救助基金（maf_pay）合计。",
        ),
        Component(
            "减：撤销结算冲回", -s.negative_fen, "已在以前救助结算单中支付、之后撤销的结算。"
        ),
        Component("减：下期抵扣", -s.offset_fen, "抵扣本院尚欠医疗救助基金的应收款。"),
    ]
    assert sum(row.amount for row in rows) == s.amount_fen, "components sum to the amount"
    return rows


def _detail(
    request: Request,
    session: Session,
    principal: Hospital,
    statement_id: int,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    statement = assistance_statements.FLOW.get(session, statement_id, actor=principal)
    if statement.status in OUTCOME:
        outcome = OUTCOME[statement.status]
    elif statement.amount_fen > 0:
        outcome = "救助拨付金额为正：确认并经基金财务审批后，从医疗救助基金拨付到本院账户。"
    elif statement.amount_fen == 0:
        outcome = "救助拨付金额为零：确认并经基金财务审批后即结清，不发生拨付。"
    else:
        outcome = "救助拨付金额为负：审批后形成本院应退还医疗救助基金的应收款。"
    return render(
        request,
        "hospital/assistance_statement.html",
        {
            "title": f"救助结算单 {statement.period}",
            "statement": statement,
            "institution": institutions.get_institution(session, statement.fixmedins_code),
            "region": institutions.get_region(session, statement.region_code),
            "components": _components(statement),
            "outcome": outcome,
            "lines": assistance_statements.lines_of(session, statement.id),
            "payments": queries.payments(session, statement.id),
            "pending": queries.pending(session, statement.fixmedins_code),
            "names": names,
            "notices": notices(request, DONE),
            "errors": errors or [],
            "form": form or {},
        },
        status=status,
    )


@router.get("/assistance-statements/{statement_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, statement_id: IdPath, principal: Hospital, session: SessionDep
) -> Response:
    return _detail(request, session, principal, statement_id)


@router.post("/assistance-statements/{statement_id}/confirm")
def confirm(
    request: Request,
    statement_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    reference: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return document_forms.confirm(
        request,
        session,
        principal,
        statement_id,
        reference,
        detail=_detail,
        act=lambda reference: assistance_statements.FLOW.confirm(
            session, statement_id, reference=reference, actor=principal, now=clock.now()
        ),
        reference_name="确认单编号",
        path=PATH,
    )


@router.post("/assistance-statements/{statement_id}/dispute")
def dispute(
    request: Request,
    statement_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    return document_forms.dispute(
        request,
        session,
        principal,
        statement_id,
        reason,
        detail=_detail,
        act=lambda reason: assistance_statements.FLOW.dispute(
            session, statement_id, reason, actor=principal, now=clock.now()
        ),
        path=PATH,
    )


@router.post("/assistance-documents")
def record_documents(
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    setl_id: Annotated[str, Form(max_length=200)] = "",
    document: Annotated[list[str] | None, Form()] = None,
    back: Annotated[str, Form(max_length=500)] = PATH,
) -> Response:
    """Record the ticked documents of one of the institution's settlements (the service's
    rules: recording a recorded one changes nothing, a rejected one is replaced)."""
    chosen = [name for name in DOCUMENT_TYPES if name in (document or [])]
    text = setl_id.strip()[: SETL_ID_CHARS_MAX + 1]
    target = back if re.fullmatch(rf"{PATH}(/[0-9]{{1,18}})?", back) else PATH
    if not chosen or not text or len(text) > SETL_ID_CHARS_MAX:
        return see_other(f"{target}?done=none#documents")
    request_ = documents.Request(_code(principal), text, chosen)
    with session.begin():
        documents.record(session, [request_], bulk=False, actor=principal, now=clock.now())
    return see_other(f"{target}?done=recorded#documents")
