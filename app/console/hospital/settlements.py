"""结算明细: the institution's settlements with filters, and a trace page per settlement — its
daily amount → line → instruction → receipt → the statement that counted it → audit
deductions, revocations shown."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.console import export, listing
from app.console.hospital import queries
from app.console.hospital.common import (
    Hospital,
    date_filters,
    insutype_filter,
    page_urls,
    range_errors,
)
from app.console.listing import Column, Filter, ListQuery, read_query
from app.console.security import ConsoleRoute
from app.console.templating import error_page, render
from app.deps import SessionDep
from app.http import IdPath

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/settlements"
STATUS_NAMES = {
    "accepted": "已接收",
    "batched": "已纳入日拨付",
    "paid": "已拨付",
    "revoked": "已撤销",
}

COLUMNS = [
    Column("结算ID", lambda r: r.settlement.setl_id, link=lambda r: f"{PATH}/{r.id}"),
    Column("结算日期", lambda r: r.settlement.setl_date, "date"),
    Column("险种", lambda r: r.settlement.insutype, "insutype"),
    Column("结算期", lambda r: r.settlement.period, "period"),
    Column("医保基金支付", lambda r: r.settlement.fund_amount_fen, "money"),
    Column("日拨付金额", lambda r: r.settlement.daily_amount_fen, "money"),
    Column("日拨付业务日期", lambda r: r.business_date, "date"),
    Column("日拨付状态", lambda r: r.payment, "status"),
    Column("电子回单号", lambda r: r.receipt_no),
    Column("状态", lambda r: r.status, "status"),
]


def _filters(session: SessionDep, principal: Hospital) -> list[Filter]:
    return [
        *date_filters(),
        insutype_filter(queries.insutypes(session, principal)),
        Filter("status", "状态", "select", options=list(STATUS_NAMES.items())),
        Filter("period", "结算期", "month"),
        Filter("setl_id", "结算ID", "text", pattern=r"[A-Za-z0-9_-]{1,30}", chars_max=30),
    ]


def _rows(
    session: SessionDep, principal: Hospital, query: ListQuery, *, limit: int, before: int | None
) -> list[queries.SettlementRow]:
    return queries.settlement_rows(
        session,
        principal,
        first=query.get("from"),
        last=query.get("to"),
        insutype=query.get("insutype"),
        status=query.get("status"),
        period=query.get("period"),
        setl_id=query.get("setl_id"),
        before_id=before,
        limit=limit,
    )


@router.get("/settlements", response_class=HTMLResponse)
def settlement_list(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    errors = query.errors + range_errors(query)
    rows = _rows(session, principal, query, limit=query.limit + 1, before=query.after_id)
    page, more = rows[: query.limit], len(rows) > query.limit
    return render(
        request,
        "hospital/list.html",
        {
            "title": "结算明细",
            "heading": "结算明细",
            "intro": "本院上传的每一笔住院结算，及其日拨付、到账与撤销情况。"
            "点击结算ID查看全程追踪。",
            "filters": filters,
            "query": query,
            "action": PATH,
            "columns": COLUMNS,
            "rows": page,
            "caption": "结算明细（最新在前）",
            "export_url": query.url(f"{PATH}.xlsx", cursor=None),
            "errors": errors,
            **page_urls(query, PATH, page, more),
        },
        status=422 if errors else 200,
    )


@router.get("/settlements.xlsx")
def settlement_xlsx(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    errors = query.errors + range_errors(query)
    if errors:
        return error_page(request, 422, "；".join(errors))
    rows = _rows(session, principal, query, limit=export.EXPORT_ROWS_MAX + 1, before=None)
    if len(rows) > export.EXPORT_ROWS_MAX:
        return error_page(request, 422, "结果超过 10 万行，请先按日期或结算期筛选后再导出。")
    caption = f"结算明细 {listing.caption(filters, query)}".strip()
    book = export.workbook("结算明细", COLUMNS, rows, caption=caption)
    return export.response(book, "结算明细.xlsx")


@router.get("/settlements/{settlement_id}", response_class=HTMLResponse)
def settlement_trace(
    request: Request, settlement_id: IdPath, principal: Hospital, session: SessionDep
) -> Response:
    trace = queries.trace(session, principal, settlement_id)
    s = trace.row.settlement
    return render(
        request,
        "hospital/trace.html",
        {
            "title": f"结算追踪 {s.setl_id}",
            "trace": trace,
            "s": s,
            "status_names": STATUS_NAMES,
        },
    )
