"""The console's pages: login and logout, each role's 首页, a statement. Thin (STYLE.md 20): they
read through the domains' services, scope a hospital to its institution like the API does,
and hand plain values to the templates. Later pages plug in the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from app.auth import logins
from app.auth.deps import Principal
from app.console import charts, export, listing, office, queries, statuses
from app.console.display import period_cn, yuan_text
from app.console.fund import pages as fund_pages
from app.console.hospital import home as hospital_home
from app.console.hospital import routes as hospital_routes
from app.console.listing import Column, Filter, ListQuery, read_query
from app.console.office import homes as office_homes
from app.console.security import (
    LOGIN_CSRF_COOKIE,
    ConsoleRoute,
    ConsoleUser,
    clear_session_cookie,
    login_csrf,
    safe_next,
    session_token,
    set_login_csrf_cookie,
    set_session_cookie,
)
from app.console.templating import STATIC_DIR, error_page, render
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.institutions import service as institutions
from app.monthly import statements
from app.monthly.models import STATEMENT_STATUSES, MonthlyStatement
from app.pagination import encode_cursor

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

NAME_CHARS_MAX = 64


def install(app: FastAPI) -> None:
    """Mount the console on an app: its pages, its stylesheet, `/` leading to it."""
    # The stylesheet first: the console's catch-all 404 page would shadow it.
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    for area in hospital_routes.ROUTERS:  # before the console's catch-all 404 page
        app.include_router(area)
    for fund_router in fund_pages.ROUTERS:  # before the console's catch-all 404 page
        app.include_router(fund_router)
    app.include_router(office.router)  # the operator's, auditor's and admin's pages
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)


# --- login and logout --------------------------------------------------------------------------


def _login_form(request: Request, *, next_path: str, error: str | None, name: str = "") -> Response:
    notices = []
    if request.query_params.get("expired"):
        notices.append("您已较长时间未操作，为安全起见已自动退出，请重新登录。")
    if request.query_params.get("bye"):
        notices.append("您已安全退出。")
    token, new = login_csrf(request)
    response = render(
        request,
        "login.html",
        {
            "title": "登录",
            "next": next_path,
            "name": name,
            "error": error,
            "notices": notices,
            "login_csrf": token,
            "idle_minutes": request.app.state.settings.console_idle_timeout_s // 60,
        },
    )
    if new:
        set_login_csrf_cookie(request, response, token)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next_path=safe_next(next), error=None)


@router.post("/login")
def login_submit(
    request: Request,
    clock: ClockDep,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/console/",
) -> Response:
    with transaction(request.app.state.session_factory) as session:
        outcome = logins.login(session, name=name, password=password, now=clock.now())
    if outcome.token is None:
        if outcome.refusal == "locked":
            assert outcome.locked_until is not None
            minutes = max(1, -(-int((outcome.locked_until - clock.now()).total_seconds()) // 60))
            error = f"密码连续错误次数过多，该账号已锁定，请约 {minutes} 分钟后再试。"
        else:
            error = "用户名或密码不正确。"
        return _login_form(
            request, next_path=safe_next(next), error=error, name=name[:NAME_CHARS_MAX]
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, outcome.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, clock: ClockDep) -> Response:
    token = session_token(request)
    if token is not None:
        with transaction(request.app.state.session_factory) as session:
            logins.logout(session, token=token, now=clock.now())
    response = RedirectResponse("/console/login?bye=1", status_code=303)
    clear_session_cookie(request, response)
    return response


# --- the statement list (each role's 首页) ------------------------------------------------------


def _statement_columns(with_institution: bool) -> list[Column]:
    columns = [
        Column("结算期", lambda s: s.period, "period", link=lambda s: f"/console/statements/{s.id}")
    ]
    if with_institution:
        columns.append(Column("机构编号", lambda s: s.fixmedins_code))
    columns += [
        Column("险种", lambda s: s.insutype, "insutype"),
        Column("医保基金支付", lambda s: s.fund_pay_fen, "money"),
        Column("审核扣款", lambda s: s.audit_fen, "money"),
        Column("已日拨付", lambda s: s.daily_paid_fen, "money"),
        Column("月拨付金额", lambda s: s.net_fen, "money"),
        Column("状态", lambda s: s.status, "status", status_kind="statement"),
    ]
    return columns


def _statement_filters(session: Session, principal: Principal) -> list[Filter]:
    filters = [
        Filter("period", "结算期", "month"),
        Filter("insutype", "险种", "select", options=list(statuses.INSUTYPES.items())),
        Filter(
            "status",
            "状态",
            "select",
            options=[(s, statuses.label(s, "statement")[0]) for s in STATEMENT_STATUSES],
        ),
    ]
    if not principal.is_hospital:
        regions = [(r.code, f"{r.name}（{r.code}）") for r in institutions.list_regions(session)]
        filters.insert(0, Filter("region", "统筹区", "select", options=regions))
        filters.insert(
            1, Filter("fixmedins_code", "机构编号", "text", pattern=r"[A-Za-z0-9]{1,30}")
        )
    return filters


def _statements(
    session: Session, principal: Principal, query: ListQuery, *, limit: int, after_id: int | None
) -> list[MonthlyStatement]:
    """The API's list (GET /statements): a hospital sees only its own institution."""
    return statements.list_statements(
        session,
        fixmedins_code=(
            principal.fixmedins_code if principal.is_hospital else query.get("fixmedins_code")
        ),
        insutype=query.get("insutype"),
        period=query.get("period"),
        status=query.get("status"),
        region_code=query.get("region"),
        after_id=after_id,
        limit=limit,
    )


def _chart(session: Session, principal: Principal) -> Any:
    totals = queries.statement_totals(
        session, fixmedins_code=principal.fixmedins_code if principal.is_hospital else None
    )
    periods = sorted({t.period for t in totals})
    categories = [period_cn(p)[5:] if p[:4] == periods[-1][:4] else period_cn(p) for p in periods]

    def per_period(pick: Any, insutype: str | None = None) -> list[int]:
        return [
            sum(pick(t) for t in totals if t.period == p and insutype in (None, t.insutype))
            for p in periods
        ]

    if principal.is_hospital:
        return charts.bar_chart(
            title="每月医保基金拨付（日拨付与月结算拨付）",
            categories=categories,
            series=[
                charts.Series("日拨付", per_period(lambda t: t.daily_paid_fen)),
                charts.Series("月结算拨付", per_period(lambda t: t.net_fen)),
            ],
            stacked=True,
        )
    return charts.bar_chart(
        title="各结算期月结算拨付金额（按险种）",
        categories=categories,
        series=[
            charts.Series(name, per_period(lambda t: t.net_fen, code))
            for code, name in statuses.INSUTYPES.items()
        ],
    )


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, principal: ConsoleUser, session: SessionDep, clock: ClockDep
) -> Response:
    if principal.is_hospital:
        return hospital_home.page(request, principal, session, clock)
    if principal.role in office_homes.ROLES:  # the operator's, auditor's and admin's own
        return office_homes.home(request, principal, session, clock)
    if principal.role == "accountant":
        return fund_pages.home(request, principal, session, clock)
    filters = _statement_filters(session, principal)
    query = read_query(request.query_params, filters)
    rows = _statements(session, principal, query, limit=query.limit + 1, after_id=query.after_id)
    page, more = rows[: query.limit], len(rows) > query.limit
    institution = (
        institutions.get_institution(session, principal.fixmedins_code)
        if principal.fixmedins_code
        else None
    )
    return render(
        request,
        "home.html",
        {
            "title": "首页",
            "institution": institution,
            "chart": _chart(session, principal),
            "filters": filters,
            "query": query,
            "columns": _statement_columns(not principal.is_hospital),
            "rows": page,
            "next_url": query.url("/console/", cursor=encode_cursor(page[-1].id)) if more else None,
            "first_url": query.url("/console/", cursor=None) if query.cursor else None,
            "export_url": query.url("/console/statements.xlsx", cursor=None),
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


@router.get("/statements.xlsx")
def statements_xlsx(request: Request, principal: ConsoleUser, session: SessionDep) -> Response:
    """The filtered statement list, every page, as XLSX."""
    filters = _statement_filters(session, principal)
    query = read_query(request.query_params, filters)
    if query.errors:
        return error_page(request, 422, "；".join(query.errors))
    rows = _statements(session, principal, query, limit=export.EXPORT_ROWS_MAX + 1, after_id=None)
    if len(rows) > export.EXPORT_ROWS_MAX:
        return error_page(request, 422, "结果超过 10 万行，请先按结算期或统筹区筛选后再导出。")
    caption = _caption(filters, query)
    book = export.workbook(
        "月度结算单", _statement_columns(True), rows, caption=f"月度结算单 {caption}".strip()
    )
    return export.response(book, "月度结算单.xlsx")


def _caption(filters: Sequence[Filter], query: ListQuery) -> str:
    return listing.caption(filters, query)


@router.get("/statements/{statement_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, statement_id: int, principal: ConsoleUser, session: SessionDep
) -> Response:
    """One statement with its SPEC §4 components (the hospital pages build on it)."""
    statement = statements.FLOW.get(session, statement_id, actor=principal)
    if principal.is_hospital:  # the hospital's own page of it (confirm, print, XLSX)
        return RedirectResponse(f"/console/hospital/statements/{statement.id}", status_code=303)
    institution = institutions.get_institution(session, statement.fixmedins_code)
    components = [
        ("医保基金支付金额", statement.fund_pay_fen),
        ("减：质量保证金", -statement.deposit_fen),
        ("减：审核扣款", -statement.audit_fen),
        ("减：已日拨付", -statement.daily_paid_fen),
        ("减：药耗招采垫付", -statement.procurement_fen),
        ("加：退票", statement.returned_fen),
        ("减：下期抵扣", -statement.offset_fen),
    ]
    assert sum(amount for _, amount in components) == statement.net_fen, "components sum to net"
    return render(
        request,
        "statement.html",
        {
            "title": f"月度结算单 {period_cn(statement.period)}",
            "statement": statement,
            "institution": institution,
            "components": components,
            "net_text": yuan_text(statement.net_fen),
        },
    )


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
def not_found(request: Request, principal: ConsoleUser) -> Response:
    return error_page(request, 404, "")
