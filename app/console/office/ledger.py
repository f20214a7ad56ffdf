"""The auditor's pages (read-only, open to all staff): accounts with balances (current or at
the end of a date), journal entries with filters, the trial balance, the ledger verification
(`fundledger ledger verify`, a read, run on request) and the audit trail."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app.clock import SHANGHAI
from app.console import statuses
from app.console.listing import Filter, ListQuery, read_query
from app.console.office import labels, queries
from app.console.office.common import StaffUser, TrailReader, page, router
from app.deps import ClockDep, SessionDep
from app.http import IdPath
from app.ledger.rules import ACCOUNT_TYPES
from app.pagination import encode_cursor

pages = router()
ACCOUNT_CODE = r"[a-z_]{2,24}:[0-9]{6}:(310|390)(:[A-Z0-9]{1,12})?"
DOCUMENT = r"[A-Za-z0-9_:.\-]{1,120}"


def end_of(day: date) -> datetime:
    """The last instant of a Shanghai date: a balance 'as of' a date includes that day."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI) - timedelta(
        microseconds=1
    )


def start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), SHANGHAI)


def _fund_filters(session: Any) -> list[Filter]:
    regions = [(r.code, f"{r.name}（{r.code}）") for r in queries.regions(session)]
    return [
        Filter("region", "统筹区", "select", options=regions),
        Filter("insutype", "险种", "select", options=list(statuses.INSUTYPES.items())),
    ]


# --- accounts -----------------------------------------------------------------------------------


@pages.get("/ledger/accounts")
def accounts_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    filters = [
        *_fund_filters(session),
        Filter(
            "name",
            "科目",
            "select",
            options=[(n, labels.ACCOUNTS.get(n, n)) for n in ACCOUNT_TYPES],
        ),
        Filter("fixmedins_code", "机构编号", "text", pattern=r"[A-Z0-9]{1,12}"),
        Filter("as_of", "截至日期（日终）", "date"),
    ]
    query = read_query(request.query_params, filters)
    after = request.query_params.get("after", "")
    after_code = after if re.fullmatch(ACCOUNT_CODE, after) else None
    as_of = query.get("as_of")
    rows = queries.balances(
        session,
        region_code=query.get("region"),
        insutype=query.get("insutype"),
        fixmedins_code=query.get("fixmedins_code"),
        name=query.get("name"),
        as_of=end_of(as_of) if as_of else None,
        after_code=after_code,
        limit=min(query.limit, queries.ACCOUNTS_MAX) + 1,
    )
    limit = min(query.limit, queries.ACCOUNTS_MAX)
    shown, more = rows[:limit], len(rows) > limit
    return page(
        request,
        "office/accounts.html",
        principal,
        {
            "title": "科目余额",
            "filters": filters,
            "query": query,
            "accounts": shown,
            "as_of": as_of,
            "labels": labels,
            "page_total": sum(a.balance_fen for a in shown),
            "next_url": (
                query.url("/console/ledger/accounts", after=shown[-1].code) if more else None
            ),
            "first_url": query.url("/console/ledger/accounts") if after_code else None,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


# --- entries ------------------------------------------------------------------------------------


def _entry_filters() -> list[Filter]:
    return [
        Filter("account", "科目代码", "text", pattern=ACCOUNT_CODE, chars_max=80),
        Filter("document", "单据（业务参考）", "text", pattern=DOCUMENT, chars_max=120),
        Filter("kind", "分录类型", "select", options=list(labels.ENTRY_KINDS.items())),
        Filter("fixmedins_code", "机构编号", "text", pattern=r"[A-Z0-9]{1,12}"),
        Filter("from", "起始日期", "date"),
        Filter("to", "截止日期", "date"),
    ]


def _entry_search(query: ListQuery) -> dict[str, Any]:
    start, end = query.get("from"), query.get("to")
    return {
        "account_code": query.get("account"),
        "business_ref": query.get("document"),
        "kind": query.get("kind"),
        "fixmedins_code": query.get("fixmedins_code"),
        "effective_from": start_of(start) if start else None,
        "effective_before": start_of(end + timedelta(days=1)) if end else None,
    }


@pages.get("/ledger/entries")
def entries_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    filters = _entry_filters()
    query = read_query(request.query_params, filters)
    if query.get("from") and query.get("to") and query.get("from") > query.get("to"):
        query.errors.append("截止日期不能早于起始日期")
    limit = min(query.limit, queries.ENTRIES_MAX)
    rows = (
        []
        if query.errors
        else queries.entries(
            session, **_entry_search(query), after_id=query.after_id, limit=limit + 1
        )
    )
    shown, more = rows[:limit], len(rows) > limit
    return page(
        request,
        "office/entries.html",
        principal,
        {
            "title": "记账分录",
            "filters": filters,
            "query": query,
            "entries": shown,
            "lines": queries.entry_lines(session, [e.id for e in shown]),
            "labels": labels,
            "next_url": (
                query.url("/console/ledger/entries", cursor=encode_cursor(shown[-1].id))
                if more
                else None
            ),
            "first_url": (
                query.url("/console/ledger/entries", cursor=None) if query.cursor else None
            ),
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


@pages.get("/ledger/entries/{entry_id}")
def entry_page(
    request: Request, entry_id: IdPath, principal: StaffUser, session: SessionDep
) -> Response:
    entry = queries.entry(session, entry_id)
    return page(
        request,
        "office/entry.html",
        principal,
        {
            "title": f"分录 {entry.id}",
            "entry": entry,
            "lines": queries.entry_lines(session, [entry.id]).get(entry.id, []),
            "labels": labels,
        },
    )


# --- trial balance and verification -------------------------------------------------------------


@pages.get("/ledger/trial-balance")
def trial_balance_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    filters = [*_fund_filters(session), Filter("as_of", "截至日期（日终）", "date")]
    query = read_query(request.query_params, filters)
    as_of = query.get("as_of")
    trial = queries.trial_balance(
        session,
        region_code=query.get("region"),
        insutype=query.get("insutype"),
        as_of=end_of(as_of) if as_of else None,
    )
    return page(
        request,
        "office/trial_balance.html",
        principal,
        {
            "title": "试算平衡",
            "filters": filters,
            "query": query,
            "trial": trial,
            "groups": _by_fund_and_account(trial.accounts),
            "as_of": as_of,
            "labels": labels,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


def _by_fund_and_account(accounts: list[Any]) -> list[dict[str, Any]]:
    """Per fund ledger and account type: how many accounts, debit and credit balances."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "debit": 0, "credit": 0}
    )
    for account in accounts:
        name, region, insutype = account.code.split(":")[:3]
        group = groups[(region, insutype, name)]
        group["count"] += 1
        if account.debit_minus_credit > 0:
            group["debit"] += account.debit_minus_credit
        else:
            group["credit"] -= account.debit_minus_credit
    return [
        {"region": r, "insutype": i, "name": n, **values}
        for (r, i, n), values in sorted(groups.items())
    ]


@pages.get("/ledger/verify")
def verify_page(
    request: Request, principal: StaffUser, session: SessionDep, clock: ClockDep
) -> Response:
    """A GET form runs it: reading every entry changes nothing (no write control)."""
    report, seconds = None, 0.0
    if request.query_params.get("run") == "1":
        started = time.perf_counter()
        report = queries.verify(session)
        seconds = time.perf_counter() - started
    return page(
        request,
        "office/verify.html",
        principal,
        {
            "title": "账簿校验",
            "report": report,
            "seconds": seconds,
            "ran_at": clock.now() if report else None,
        },
    )


# --- the audit trail ----------------------------------------------------------------------------

TRAIL_ENTITIES = {
    "calendar": "工作日历",
    "institution": "机构",
    "fund_ledger": "基金账套",
    "region": "统筹区",
    "user": "用户",
    "token": "令牌",
    "alert": "告警",
    "statement": "月度结算单",
    "clearing": "年度清算",
    "daily_batch": "日拨付批次",
    "annual_rule": "年度清算规则",
}


@pages.get("/trail")
def trail_page(request: Request, principal: TrailReader, session: SessionDep) -> Response:
    filters = [
        Filter("entity", "对象类型", "select", options=list(TRAIL_ENTITIES.items())),
        Filter("key", "对象编号", "text", pattern=r"[^\s]{1,128}", chars_max=128),
        Filter("action", "操作", "select", options=list(labels.TRAIL_ACTIONS.items())),
    ]
    query = read_query(request.query_params, filters)
    rows = queries.trail_page(
        session,
        entity=query.get("entity"),
        key=query.get("key"),
        action=query.get("action"),
        after_id=query.after_id,
        limit=query.limit + 1,
    )
    shown, more = rows[: query.limit], len(rows) > query.limit
    return page(
        request,
        "office/trail.html",
        principal,
        {
            "title": "审计日志",
            "filters": filters,
            "query": query,
            "events": shown,
            "entities": TRAIL_ENTITIES,
            "labels": labels,
            "next_url": (
                query.url("/console/trail", cursor=encode_cursor(shown[-1].id)) if more else None
            ),
            "first_url": query.url("/console/trail", cursor=None) if query.cursor else None,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )
