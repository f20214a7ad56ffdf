"""The fund accountant's pages (基金财务). Thin (STYLE.md 20): they read through queries.py and
queue.py, write through actions.py, one transaction per request, and say the services'
refusals in Chinese. Staff read them (the auditor too, without a single write control); only
an accountant writes; a hospital is refused."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import business_date
from app.console import statuses
from app.console.display import period_cn
from app.console.fund import (
    assistance,
    documents,
    messages,
    money,
    money_queries,
    payees,
    queue,
)
from app.console.fund import book as books
from app.console.fund.access import Accountant, Staff, can_write
from app.console.fund.queue_model import QueueContext, QueueFilter, QueueRow
from app.console.listing import Filter, read_query
from app.console.security import ConsoleRoute
from app.console.templating import render
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.institutions import service as institutions

router = APIRouter(prefix="/console/fund", route_class=ConsoleRoute, include_in_schema=False)

QUEUE_PATH = "/console/fund/queue"
HEAD_ROWS = 10  # the queue's head on the 首页


def safe_back(path: str, default: str = QUEUE_PATH) -> str:
    """Where a form returns: one of this area's pages or the 首页, never elsewhere."""
    local = "//" not in path and "\\" not in path
    if local and (path.startswith("/console/fund/") or path.partition("?")[0] == "/console/"):
        return path
    return default


# --- the queue --------------------------------------------------------------------------------


def _queue_filters(session: Session) -> list[Filter]:
    regions = [(r.code, f"{r.name}（{r.code}）") for r in institutions.list_regions(session)]
    return [
        Filter("kind", "单据", "select", options=queue.KIND_OPTIONS),
        Filter("region", "统筹区", "select", options=regions),
        Filter("insutype", "险种", "select", options=list(statuses.FUND_NAMES.items())),
    ]


def _context(session: Session, today: date) -> QueueContext:
    return QueueContext(session=session, book=books.load(session), today=today)


def queue_view(
    request: Request,
    session: Session,
    principal: Principal,
    today: date,
    *,
    limit: int | None = None,
) -> dict[str, Any]:
    """Everything the queue shows: a page of rows, totals per source, today's done list."""
    filters = _queue_filters(session)
    query = read_query(request.query_params, filters)
    after, after_error = queue.decode_after(request.query_params.get("after"))
    if after_error:
        query.errors.append(after_error)
    ctx = _context(session, today)
    wanted = QueueFilter(
        kinds=[query.get("kind")] if query.get("kind") else [],
        region_code=query.get("region"),
        insutype=query.get("insutype"),
    )
    groups = queue.find_groups(ctx, wanted)
    rows, next_after = queue.read_page(ctx, groups, after=after, limit=limit or query.limit)
    queue.decorate(ctx, rows, principal)
    present(rows, ctx.book, today)
    sums = queue.totals(groups)
    return {
        "ctx": ctx,
        "groups": groups,
        "book": ctx.book,
        "today": today,
        "filters": filters,
        "query": query,
        "rows": rows,
        "sources": queue.SOURCES,
        "totals": sums,
        "total_count": sum(count for count, _ in sums.values()),
        "total_fen": sum(amount for _, amount in sums.values()),
        "next_url": query.url(QUEUE_PATH, after=next_after) if next_after else None,
        "first_url": query.url(QUEUE_PATH, after=None) if after else None,
        "can_write": can_write(principal),
        "errors": query.errors,
        "here": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request, principal: Staff, session: SessionDep, clock: ClockDep
) -> Response:
    today = business_date(clock.now())
    view = queue_view(request, session, principal, today)
    view["done"] = queue.done_today(session, today)
    view["notices"] = _notices(request, session)
    status = 422 if view["query"].errors else 200
    return render(request, "fund/queue.html", {"title": "待审批", **view}, status=status)


NOTICES = {
    "approved": "已审批",
    "reapproved": "已重新审批，将随下一次提交发送银行",
    "rejected": "已退回，批次回到医保经办",
}


def _notices(request: Request, session: Session) -> list[str]:
    """The notice of a write just done (POST-redirect-GET): `ok=approved&doc=statement:12`."""
    what = NOTICES.get(request.query_params.get("ok", ""))
    entity, _, raw_id = request.query_params.get("doc", "").partition(":")
    document = queue.document_of(entity)
    if what is None or document is None or not raw_id.isdigit() or len(raw_id) > 18:
        return []
    summary = document.summaries(session, [int(raw_id)]).get(int(raw_id))
    if summary is None:
        return []
    return [f"{what}：{document.label} {summary.title}（{summary.region_code} {summary.insutype}）"]


# --- approving, rejecting ---------------------------------------------------------------------


@router.post("/approve")
def approve(
    request: Request,
    principal: Accountant,
    clock: ClockDep,
    document: Annotated[str, Form(max_length=20)],
    doc_id: Annotated[int, Form(ge=1, lt=2**63)],
    back: Annotated[str, Form(max_length=500)] = QUEUE_PATH,
) -> Response:
    """Approve (or re-approve after a failed payment) one document of the queue."""
    kind = queue.document_of(document)
    if kind is None:
        return _refused(request, 404, messages.NOT_FOUND, back)
    reapproval = False
    try:
        with transaction(request.app.state.session_factory) as session:
            summary = kind.summaries(session, [doc_id]).get(doc_id)
            reapproval = summary is not None and summary.status in ("FAILED", "RETURNED")
            kind.approve(session, doc_id, principal, clock.now())
    except DomainError as error:
        text = messages.refusal_text(error, doing="approve", entity=kind.entity)
        return _refused(request, error.status, text, back, kind.url(doc_id))
    ok = "reapproved" if reapproval else "approved"
    return _back(back, ok=ok, doc=f"{kind.entity}:{doc_id}")


def _back(back: str, **params: str) -> RedirectResponse:
    """Back to the page the form came from (its filters kept), with the notice's keys."""
    path, _, query = safe_back(back).partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in params]
    return RedirectResponse(f"{path}?{urlencode([*kept, *params.items()])}", status_code=303)


def _refused(
    request: Request, status: int, text: str, back: str, document_url: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "fund/refused.html",
        {
            "title": "未能完成",
            "detail": text,
            "back": safe_back(back),
            "document_url": document_url,
        },
        status=status,
    )


def present(rows: list[QueueRow], book: books.FundBook, today: date) -> None:
    """What each row shows beside its columns: its page, title, fund ledger, deadline, maker
    and, when the viewer may not approve it, why (the service's refusal, in Chinese)."""
    for row in rows:
        assert row.source is not None
        document = row.source.document
        fund = book.find(row.region_code, row.insutype)
        cutoff = None
        if row.kind == "daily" and fund is not None:
            cutoff = f"{book.submission_times(fund.id, today)[1]:%H:%M}"
        row.extra.update(
            url=document.url(row.doc_id),
            title=_title(row),
            fund=book.short(row.region_code, row.insutype),
            due={
                "day": row.due_date if row.due_date != queue.FAR else None,
                "time": row.due_time,
                "late": row.due_date < today,
                "today": row.due_date == today,
            },
            cutoff=cutoff,
            maker=maker_name(row.maker),
            approve_label="重新审批" if row.status in ("FAILED", "RETURNED") else "审批通过",
            refusal_text=messages.MAKER_CHECKER_SHORT if row.refusal else None,
        )


def _title(row: QueueRow) -> str:
    if row.source is not None and row.source.document.entity == "person_payment":
        return f"人员 {row.fixmedins_code}"
    if row.business_date is not None:
        return row.business_date.isoformat()
    if row.period is not None:
        return period_cn(row.period)
    return f"{row.year}年度"


def maker_name(name: str) -> str:
    return "系统（自动）" if name == "system" else name


# --- the accountant's 首页 ----------------------------------------------------------------------


def home(request: Request, principal: Principal, session: Session, clock: Any) -> Response:
    """The queue's head, today's submission times and deadlines, the monitor's counts."""
    now = clock.now()
    today = business_date(now)
    view = queue_view(request, session, principal, today, limit=HEAD_ROWS)
    book = view["book"]
    sends = money_queries.to_send(session, today)
    working = book.calendar.is_working(today)
    deadlines = []
    for fund in book.ordered():
        key = (fund.region_code, fund.insutype)
        deadline = book.deadline(fund.id, today)
        send = sends.get(key, money_queries.ToSend())
        deadlines.append(
            {
                "label": book.label(*key),
                "submission": deadline.submission,
                "cutoff": deadline.cutoff,
                "waiting": send.awaiting_approval,
                "approved": send.daily,
                "state": _submission_state(working, now, deadline),
            }
        )
    due = queue.due_counts(view["groups"], today)
    return render(
        request,
        "fund/home.html",
        {
            "title": "首页",
            **view,
            "working": working,
            "deadlines": deadlines,
            "due": due,
            "counts": money.monitor_counts(session, today),
        },
    )


def _submission_state(working: bool, now: Any, deadline: books.Deadline) -> str:
    if not working:
        return "今日非工作日，不提交银行"
    if now < deadline.submission:
        return "待提交：请在提交时点前审批"
    if now < deadline.cutoff:
        return "已到提交时点，截止前仍可发送"
    return "已过截止时点：未发送的顺延至下一工作日"


# The accountant's routers, installed by app.console.pages before the console's 404 page.
ROUTERS = (router, documents.router, money.router, payees.router, assistance.router)
