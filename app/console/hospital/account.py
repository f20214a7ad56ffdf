"""往来对账单: the statement of the hospital's account with the fund (the ledger's
per-institution accounts) for a date range: opening balance, every movement with its date,
document and bank receipt number and the balance after it, closing balance; page and XLSX."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.clock import business_date
from app.console import export
from app.console.hospital import document_queries, queries
from app.console.hospital.common import Hospital, insutype_filter, today
from app.console.listing import Column, Filter, ListQuery, read_query
from app.console.security import ConsoleRoute
from app.console.templating import error_page, render
from app.deps import ClockDep, SessionDep
from app.errors import DomainError, NotFound
from app.institutions import payees
from app.ledger import account_statement
from app.ledger.account_statement import AccountStatement, Movement
from app.ledger.rules import account_code
from app.pagination import encode_cursor

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/account"
ACCOUNTS = {
    "payable": ("应付医疗机构款", "余额为医保基金应付本院、尚未拨付的金额（贷方余额）。"),
    "receivable": ("应收医疗机构款", "余额为本院应退还医保基金的金额（借方余额）。"),
    "deposit_held": ("质量保证金", "余额为医保基金为本院预留、待年度清算返还的质量保证金。"),
}
KINDS = {
    "daily_accrual": "日拨付计提",
    "daily_revocation": "撤销冲回",
    "instruction_sent": "拨付指令发出",
    "instruction_success": "银行回单到账",
    "instruction_failed": "拨付失败退回",
    "instruction_returned": "银行退票",
    "statement_approval": "月度结算单审批",
    "clearing_approval": "年度清算审批",
    "repayment": "现金还款",
    "procurement_advance": "药耗招采垫付",
    "appropriation": "基金划入",
    "reversal": "冲正",
}


@dataclass(frozen=True)
class Line:
    """A row of the statement as shown: a movement, or the opening or closing balance."""

    day: date | None
    summary: str
    document: str
    link: str | None
    receipt_no: str | None
    debit_fen: int | None
    credit_fen: int | None
    balance_fen: int


COLUMNS = [
    Column("日期", lambda r: r.day, "date"),
    Column("摘要", lambda r: r.summary),
    Column("单据", lambda r: r.document),
    Column("电子回单号", lambda r: r.receipt_no),
    Column("借方", lambda r: r.debit_fen, "money"),
    Column("贷方", lambda r: r.credit_fen, "money"),
    Column("余额", lambda r: r.balance_fen, "money"),
]


def _filters(session: Session, principal: Hospital) -> list[Filter]:
    return [
        insutype_filter(queries.insutypes(session, principal)),
        Filter("account", "账户", "select", options=[(k, v[0]) for k, v in ACCOUNTS.items()]),
        Filter("from", "起始日期", "date"),
        Filter("to", "截止日期", "date"),
    ]


def _range(query: ListQuery, now: date) -> tuple[date, date]:
    last = query.get("to") or now
    first = query.get("from") or last.replace(day=1)
    return first, last


def _describe(session: Session, movements: list[Movement]) -> list[Line]:
    """Each movement's document in words (and a link where the hospital has a page for it)."""
    refs = [m.business_ref.split(":") for m in movements]
    lines = document_queries.line_dates(session, [int(r[1]) for r in refs if r[0] == "daily_line"])
    periods = document_queries.statement_periods(
        session, [int(r[1]) for r in refs if r[0] == "statement"]
    )
    years = document_queries.clearing_years(
        session, [int(r[1]) for r in refs if r[0] == "clearing"]
    )
    shown = []
    for m, ref in zip(movements, refs, strict=True):
        document, link = m.business_ref, None
        if ref[0] == "daily_line" and int(ref[1]) in lines:
            day, count = lines[int(ref[1])]
            document = f"日拨付汇总单 {day.isoformat()}（{count} 笔）"
            link = f"/console/hospital/daily?from={day}&to={day}"
        elif ref[0] == "daily_batch":
            document = "日拨付批次（撤销冲回）"
        elif ref[0] == "instruction":
            document = f"支付指令 {m.instruction_id or ref[1]}"
        elif ref[0] == "statement" and int(ref[1]) in periods:
            document = f"月度结算单 {periods[int(ref[1])]}"
            link = f"/console/hospital/statements/{ref[1]}"
        elif ref[0] == "clearing" and int(ref[1]) in years:
            document = f"{years[int(ref[1])]}年度清算"
            link = f"/console/hospital/clearings/{ref[1]}"
        summary = KINDS.get(m.kind, m.kind)
        if m.reverses_entry_id is not None:
            summary = f"冲正（原分录 {m.reverses_entry_id}）"
        shown.append(
            Line(
                business_date(m.effective_at),
                summary,
                document,
                link,
                m.receipt_no,
                m.debit_fen or None,
                m.credit_fen or None,
                m.balance_fen,
            )
        )
    return shown


def _choice(session: Session, principal: Hospital, query: ListQuery) -> tuple[str, str]:
    """(insurance type, account name) asked for, or the first enrolled type's payable."""
    insutypes = queries.insutypes(session, principal)
    insutype = query.get("insutype") or (insutypes[0] if insutypes else "310")
    return insutype, query.get("account") or "payable"


def _statement(
    session: Session,
    principal: Hospital,
    query: ListQuery,
    now: date,
    *,
    limit: int,
    after: int | None,
) -> tuple[AccountStatement | None, str]:
    """The statement (None: the account has had no movement yet) and the account code."""
    insutype, name = _choice(session, principal, query)
    region = queries.institution(session, principal).region_code
    code = account_code(name, region, insutype, principal.fixmedins_code)
    first, last = _range(query, now)
    try:
        found = account_statement.statement(
            session, code, first, last, actor=principal, after_position=after, limit=limit
        )
    except NotFound:
        return None, code
    return found, code


@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request, principal: Hospital, session: SessionDep, clock: ClockDep
) -> Response:
    filters = _filters(session, principal)
    query = read_query(request.query_params, filters)
    now = today(clock)
    first, last = _range(query, now)
    errors = list(query.errors)
    found, code = None, ""
    try:
        found, code = _statement(
            session, principal, query, now, limit=query.limit, after=query.after_id
        )
    except DomainError:
        errors.append(
            f"日期范围：起始日期不晚于截止日期，且一次最多 "
            f"{account_statement.STATEMENT_DAYS_MAX} 天"
        )
    rows = _describe(session, found.movements) if found else []
    more = bool(found and found.more)
    insutype, name = _choice(session, principal, query)
    return render(
        request,
        "hospital/account.html",
        {
            "title": "往来对账单",
            "filters": filters,
            "query": query,
            "first": first,
            "last": last,
            "statement": found,
            "code": code,
            "insutype": insutype,
            "account": name,
            "account_name": ACCOUNTS[name][0],
            "account_note": ACCOUNTS[name][1],
            "columns": COLUMNS,
            "rows": rows,
            "next_url": query.url(PATH, cursor=encode_cursor(found.movements[-1].position))
            if found and more
            else None,
            "first_url": query.url(PATH, cursor=None) if query.cursor else None,
            "export_url": query.url(
                f"{PATH}.xlsx", cursor=None, **{"from": first.isoformat(), "to": last.isoformat()}
            ),
            "errors": errors,
            "payee_changes": payees.list_changes(session, principal.fixmedins_code or ""),
        },
        status=422 if errors else 200,
    )


@router.get("/account.xlsx")
def account_xlsx(
    request: Request, principal: Hospital, session: SessionDep, clock: ClockDep
) -> Response:
    """Every movement of the range (≤ 100,000) between the opening and closing balances."""
    query = read_query(request.query_params, _filters(session, principal))
    if query.errors:
        return error_page(request, 422, "；".join(query.errors))
    now = today(clock)
    found, code = _statement(
        session, principal, query, now, limit=export.EXPORT_ROWS_MAX - 2, after=None
    )
    first, last = _range(query, now)
    if found is not None and found.more:
        return error_page(request, 422, "发生额超过 10 万笔，请缩短日期范围后再导出。")
    opening = found.opening_fen if found else 0
    closing = found.closing_fen if found else 0
    rows = [Line(first, "期初余额", "", None, None, None, None, opening)]
    rows += _describe(session, found.movements) if found else []
    rows.append(Line(last, "期末余额", "", None, None, None, None, closing))
    _, name = _choice(session, principal, query)
    caption = (
        f"往来对账单 {ACCOUNTS[name][0]} {code} {first.isoformat()} 至 {last.isoformat()}；"
        f"{ACCOUNTS[name][1]}"
    )
    book = export.workbook("往来对账单", COLUMNS, rows, caption=caption)
    return export.response(book, f"往来对账单-{first}-{last}.xlsx")
