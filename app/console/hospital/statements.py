"""月度结算单: the institution's statements, one statement with every SPEC §4 component in
words, confirm / dispute, the printable 月度结算确认单 (with a place for the seal), the XLSX."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.console import export, listing
from app.console.hospital import (
    actions,
    document_forms,
    document_queries,
    documents,
    queries,
)
from app.console.hospital.common import (
    Hospital,
    insutype_filter,
    notices,
    page_urls,
    today,
)
from app.console.listing import Column, Filter, ListQuery, read_query
from app.console.security import ConsoleRoute
from app.console.statuses import label
from app.console.templating import error_page, render
from app.deps import ClockDep, SessionDep
from app.http import IdPath
from app.institutions import service as institutions
from app.monthly import statements
from app.monthly.models import STATEMENT_STATUSES, MonthlyStatement

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/statements"
DONE = {
    "confirmed": "已确认本月度结算单。基金财务审批后拨付。",
    "disputed": "已提出异议，结算单退回医保经办机构复核后重新计算。",
}

COLUMNS = [
    Column("结算期", lambda s: s.period, "period", link=lambda s: f"{PATH}/{s.id}"),
    Column("险种", lambda s: s.insutype, "insutype"),
    Column("医保基金支付", lambda s: s.fund_pay_fen, "money"),
    Column("质量保证金", lambda s: s.deposit_fen, "money"),
    Column("审核扣款", lambda s: s.audit_fen, "money"),
    Column("已日拨付", lambda s: s.daily_paid_fen, "money"),
    Column("药耗招采垫付", lambda s: s.procurement_fen, "money"),
    Column("退票", lambda s: s.returned_fen, "money"),
    Column("下期抵扣", lambda s: s.offset_fen, "money"),
    Column("月拨付金额", lambda s: s.net_fen, "money"),
    Column("状态", lambda s: s.status, "status", status_kind="statement"),
]


def _filters(session: Session, principal: Hospital) -> list[Filter]:
    return [
        Filter("period", "结算期", "month"),
        insutype_filter(queries.insutypes(session, principal)),
        Filter(
            "status",
            "状态",
            "select",
            options=[(s, label(s, "statement")[0]) for s in STATEMENT_STATUSES],
        ),
    ]


def _rows(
    session: Session, principal: Hospital, query: ListQuery, *, limit: int, before: int | None
) -> list[MonthlyStatement]:
    return document_queries.statement_rows(
        session,
        principal,
        period=query.get("period"),
        insutype=query.get("insutype"),
        status=query.get("status"),
        before_id=before,
        limit=limit,
    )


@router.get("/statements", response_class=HTMLResponse)
def statement_list(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    rows = _rows(session, principal, query, limit=query.limit + 1, before=query.after_id)
    page, more = rows[: query.limit], len(rows) > query.limit
    return render(
        request,
        "hospital/list.html",
        {
            "title": "月度结算单",
            "heading": "月度结算单",
            "intro": "每月申报截止后的第一个工作日计算。待确认的结算单请核对后确认或提出异议。",
            "filters": filters,
            "query": query,
            "action": PATH,
            "columns": COLUMNS,
            "rows": page,
            "caption": "月度结算单（最新在前）",
            "export_url": query.url(f"{PATH}.xlsx", cursor=None),
            "errors": query.errors,
            **page_urls(query, PATH, page, more),
        },
        status=422 if query.errors else 200,
    )


@router.get("/statements.xlsx")
def statement_list_xlsx(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    if query.errors:
        return error_page(request, 422, "；".join(query.errors))
    rows = _rows(session, principal, query, limit=export.EXPORT_ROWS_MAX, before=None)
    caption = f"月度结算单 {listing.caption(filters, query)}".strip()
    book = export.workbook("月度结算单", COLUMNS, rows, caption=caption)
    return export.response(book, "月度结算单.xlsx")


def _statement_context(session: Session, principal: Hospital, statement_id: int) -> dict[str, Any]:
    statement = statements.FLOW.get(session, statement_id, actor=principal)
    facts = document_queries.statement_facts(session, statement)
    return {
        "statement": statement,
        "institution": institutions.get_institution(session, statement.fixmedins_code),
        "region": institutions.get_region(session, statement.region_code),
        "facts": facts,
        "components": documents.statement_components(statement, facts),
        "outcome": documents.statement_outcome(statement),
    }


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
    context = _statement_context(session, principal, statement_id)
    statement = context["statement"]
    return render(
        request,
        "hospital/statement.html",
        {
            "title": f"月度结算单 {statement.period}",
            **context,
            "notices": notices(request, DONE),
            "errors": errors or [],
            "form": form or {},
        },
        status=status,
    )


@router.get("/statements/{statement_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, statement_id: IdPath, principal: Hospital, session: SessionDep
) -> Response:
    return _detail(request, session, principal, statement_id)


@router.post("/statements/{statement_id}/confirm")
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
        act=lambda reference: actions.confirm_statement(
            session, statement_id, reference, actor=principal, now=clock.now()
        ),
        reference_name="确认单编号",
        path=PATH,
    )


@router.post("/statements/{statement_id}/dispute")
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
        act=lambda reason: actions.dispute_statement(
            session, statement_id, reason, actor=principal, now=clock.now()
        ),
        path=PATH,
    )


@router.get("/statements/{statement_id}/print", response_class=HTMLResponse)
def statement_print(
    request: Request,
    statement_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """月度结算确认单: the form the hospital prints, signs and seals."""
    context = _statement_context(session, principal, statement_id)
    return render(
        request,
        "hospital/statement_print.html",
        {"title": "月度结算确认单", **context, "printed_on": today(clock)},
    )


COMPONENT_COLUMNS = [
    Column("项目", lambda c: c.label),
    Column("金额", lambda c: c.amount, "money"),
    Column("说明", lambda c: c.words),
]
AUDIT_COLUMNS = [
    Column("结算ID", lambda r: r[1]),
    Column("规则编码", lambda r: r[0].rule_code),
    Column("原因", lambda r: r[0].reason),
    Column("结算期", lambda r: r[0].period, "period"),
    Column("终审扣款", lambda r: r[0].final_amount_fen, "money"),
]
ADVANCE_COLUMNS = [
    Column("参考号", lambda a: a.reference),
    Column("结算期", lambda a: a.period, "period"),
    Column("金额", lambda a: a.amount_fen, "money"),
]


@router.get("/statements/{statement_id}/export.xlsx")
def statement_xlsx(
    request: Request, statement_id: IdPath, principal: Hospital, session: SessionDep
) -> Response:
    """The statement as XLSX: its components, the settlements of its period (with their daily
    payment), the deductions and advances it took."""
    context = _statement_context(session, principal, statement_id)
    statement: MonthlyStatement = context["statement"]
    facts: document_queries.StatementFacts = context["facts"]
    caption = (
        f"{context['institution'].name}（{statement.fixmedins_code}） {statement.period} "
        f"{statement.insutype} 月度结算单 第 {statement.version} 版"
    )
    book = export.workbook("结算单", COMPONENT_COLUMNS, context["components"], caption=caption)
    rows = document_queries.statement_settlements(session, statement)
    export.add_sheet(book, "结算明细", SETTLEMENT_COLUMNS, rows)
    export.add_sheet(book, "审核扣款", AUDIT_COLUMNS, facts.audits)
    export.add_sheet(book, "药耗招采垫付", ADVANCE_COLUMNS, facts.advances)
    return export.response(book, f"月度结算单-{statement.period}-{statement.insutype}.xlsx")


SETTLEMENT_COLUMNS = [
    Column("结算ID", lambda r: r.settlement.setl_id),
    Column("结算日期", lambda r: r.settlement.setl_date, "date"),
    Column("医保基金支付", lambda r: r.settlement.fund_amount_fen, "money"),
    Column("日拨付金额", lambda r: r.settlement.daily_amount_fen, "money"),
    Column("日拨付业务日期", lambda r: r.business_date, "date"),
    Column("日拨付状态", lambda r: r.payment, "status"),
    Column("电子回单号", lambda r: r.receipt_no),
    Column("状态", lambda r: r.status, "status"),
]
