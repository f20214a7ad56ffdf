"""日拨付到账: the institution's daily payment summaries (one line per business date and
insurance type) with their pay date, payment status, receipt number and the bank's reason."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.console import export, listing, statuses
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

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/daily"

PAGE_COLUMNS = [
    Column("业务日期", lambda r: r.batch.business_date, "date"),
    Column("险种", lambda r: r.batch.insutype, "insutype"),
    Column("拨付日期", lambda r: r.batch.pay_date, "date"),
    Column("笔数", lambda r: r.line.settlement_count, "int"),
    Column("医保基金支付合计", lambda r: r.line.fund_total_fen, "money"),
    Column("日拨付金额", lambda r: r.line.amount_fen, "money"),
    Column("状态", lambda r: r.status, "status"),
    Column("到账日期", lambda r: r.received_at, "date"),
    Column("电子回单号", lambda r: r.instruction.receipt_no if r.instruction else None),
    Column("失败/退票原因", lambda r: r.reason),
]
COLUMNS = [
    Column("业务日期", lambda r: r.batch.business_date, "date"),
    Column("险种", lambda r: r.batch.insutype, "insutype"),
    Column("拨付日期", lambda r: r.batch.pay_date, "date"),
    Column("结算笔数", lambda r: r.line.settlement_count, "int"),
    Column("医保基金支付合计", lambda r: r.line.fund_total_fen, "money"),
    Column("日拨付金额", lambda r: r.line.amount_fen, "money"),
    Column("状态", lambda r: r.status, "status"),
    Column("银行结果时间", lambda r: r.received_at, "datetime"),
    Column("电子回单号", lambda r: r.instruction.receipt_no if r.instruction else None),
    Column("失败/退票原因", lambda r: r.reason),
    Column("支付指令号", lambda r: r.line.instruction_id),
]


def _filters(session: SessionDep, principal: Hospital) -> list[Filter]:
    return [
        *date_filters(),
        insutype_filter(queries.insutypes(session, principal)),
        Filter(
            "status",
            "状态",
            "select",
            options=[(s, statuses.label(s)[0]) for s in queries.LINE_STATUSES],
        ),
    ]


def _rows(
    session: SessionDep, principal: Hospital, query: ListQuery, *, limit: int, before: int | None
) -> list[queries.LineRow]:
    return queries.line_rows(
        session,
        principal,
        first=query.get("from"),
        last=query.get("to"),
        insutype=query.get("insutype"),
        status=query.get("status"),
        before_id=before,
        limit=limit,
    )


@router.get("/daily", response_class=HTMLResponse)
def daily_lines(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    errors = query.errors + range_errors(query)
    rows = _rows(session, principal, query, limit=query.limit + 1, before=query.after_id)
    page, more = rows[: query.limit], len(rows) > query.limit
    return render(
        request,
        "hospital/list.html",
        {
            "title": "日拨付到账",
            "heading": "日拨付到账",
            "intro": "每个业务日期本院的日拨付汇总单：T+1 生成，节假日顺延至下一工作日拨付。"
            "日拨付失败不再重拨，由月度结算支付；退票视同未拨付。",
            "filters": filters,
            "query": query,
            "action": PATH,
            "columns": PAGE_COLUMNS,
            "rows": page,
            "caption": "日拨付汇总单（最新在前）",
            "export_url": query.url(f"{PATH}.xlsx", cursor=None),
            "errors": errors,
            **page_urls(query, PATH, page, more),
        },
        status=422 if errors else 200,
    )


@router.get("/daily.xlsx")
def daily_xlsx(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    errors = query.errors + range_errors(query)
    if errors:
        return error_page(request, 422, "；".join(errors))
    rows = _rows(session, principal, query, limit=export.EXPORT_ROWS_MAX + 1, before=None)
    if len(rows) > export.EXPORT_ROWS_MAX:
        return error_page(request, 422, "结果超过 10 万行，请先按日期筛选后再导出。")
    caption = f"日拨付到账 {listing.caption(filters, query)}".strip()
    book = export.workbook("日拨付到账", COLUMNS, rows, caption=caption)
    return export.response(book, "日拨付到账.xlsx")
