"""The pages of one document: a daily batch (its lines, the settlements behind a line), a
monthly statement and an annual clearing (their components and payments), each with the
history of every state change, who and when (the audit trail, the document's own
timestamps for what the jobs did, and the bank's results)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.auth.principal import Principal
from app.clock import business_date
from app.console.display import period_cn, yuan_text
from app.console.fund import actions, messages, queries
from app.console.fund import book as books
from app.console.fund.access import Accountant, Staff, can_write
from app.console.security import ConsoleRoute
from app.console.statuses import ROLES
from app.console.templating import render
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.money import bp_str
from app.pagination import decode_cursor, decode_text_cursor, encode_cursor

router = APIRouter(prefix="/console/fund", route_class=ConsoleRoute, include_in_schema=False)

LINES_PAGE = 50
SETTLEMENTS_PAGE = 100
REASON_CHARS_MAX = 300


@dataclass(frozen=True)
class Event:
    """One line of a document's history."""

    at: datetime
    what: str
    actor: str
    role: str | None
    before: str | None
    after: str | None
    kind: str
    note: str | None = None


ACTIONS = {
    "daily_batch.approve": "审批",
    "daily_batch.reject": "退回",
    "daily_batch.push": "重新推送",
    "daily_line.hold": "暂缓拨付",
    "daily_line.release": "取消暂缓",
    "statement.confirm": "医院确认",
    "statement.dispute": "医院提出异议",
    "statement.recompute": "重新计算",
    "statement.approve": "审批",
    "statement.reapprove": "重新审批",
    "clearing.confirm": "医院确认",
    "clearing.dispute": "医院提出异议",
    "clearing.recompute": "重新计算",
    "clearing.approve": "审批",
    "assistance_statement.confirm": "医院确认",
    "assistance_statement.dispute": "医院提出异议",
    "assistance_statement.recompute": "重新计算",
    "assistance_statement.approve": "审批",
    "assistance_statement.reapprove": "重新审批",
}
SYSTEM = "系统（自动）"
BANK = "银行"


def _from_trail(events: list[Any], kind: str) -> list[Event]:
    found = []
    for event in events:
        before = event.before if isinstance(event.before, dict) else {}
        after = event.after if isinstance(event.after, dict) else {}
        note = after.get("reason")
        if event.action.startswith("daily_line."):
            note = f"机构 {event.entity_key.partition(':')[2]}"
        elif event.action == "daily_batch.push":
            note = f"第 {after.get('round')} 轮审批"
        found.append(
            Event(
                at=event.at,
                what=ACTIONS.get(event.action, event.action),
                actor=event.actor,
                role=ROLES.get(event.actor_role),
                before=before.get("status"),
                after=after.get("status"),
                kind=kind,
                note=note,
            )
        )
    return found


def _payment_events(payments: list[Any], kind: str) -> list[Event]:
    """The bank's part of a document's history: each instruction sent, paid, failed or
    returned (with the bank's reason)."""
    found = []
    for p in payments:
        resend = f"（重发，原指令 {p.resend_of}）" if p.resend_of else ""
        note = p.instruction_id + resend
        found.append(Event(p.created_at, "生成支付指令", SYSTEM, None, None, None, kind, note))
        if p.result_at is not None and p.status in ("SUCCESS", "RETURNED"):
            note = f"回单 {p.receipt_no}" if p.receipt_no else None
            found.append(Event(p.result_at, "银行到账", BANK, None, None, "PAID", kind, note))
        if p.result_at is not None and p.status == "FAILED":
            note = p.failure_reason or p.failure_code
            found.append(Event(p.result_at, "银行支付失败", BANK, None, None, "FAILED", kind, note))
        if p.returned_at is not None:
            note = p.return_reason
            found.append(Event(p.returned_at, "银行退票", BANK, None, None, "RETURNED", kind, note))
    return found


# --- a daily batch ------------------------------------------------------------------------------


def _batch_history(session: Any, batch: Any) -> list[Event]:
    events = [
        Event(batch.generated_at, "生成并推送基金财务", SYSTEM, None, None, "PUSHED", "batch")
    ]
    trail = queries.trail_of(session, "daily_batch", [str(batch.id)], prefix=f"{batch.id}:")
    events += _from_trail(trail, "batch")
    if batch.submitted_at is not None:
        events.append(
            Event(batch.submitted_at, "提交银行", SYSTEM, None, "APPROVED", "SUBMITTED", "batch")
        )
    return sorted(events, key=lambda e: e.at)


def batch_view(
    request: Request, session: Any, principal: Principal, batch_id: int, today: Any
) -> dict[str, Any]:
    batch = queries.batch(session, batch_id)
    book = books.load(session)
    after = request.query_params.get("after")
    after_code = _text_key(after)
    lines = queries.batch_lines(session, batch, after_code=after_code, limit=LINES_PAGE)
    more = len(lines) > LINES_PAGE
    lines = lines[:LINES_PAGE]
    path = f"/console/fund/batches/{batch.id}"
    refusal = queries.batch_refusals(session, [batch.id], principal)[batch.id]
    approvals = queries.batch_approvals(session, batch)
    policy = book.policy(batch.fund_ledger_id, batch.pay_date)
    hold = request.query_params.get("hold", "")
    hold_line = next((row for row in lines if row.line.fixmedins_code == hold), None)
    return {
        "title": f"日拨付批次 {batch.business_date.isoformat()}",
        "batch": batch,
        "book": book,
        "fund_label": book.label(batch.region_code, batch.insutype),
        "figures": queries.batch_figures(session, batch),
        "lines": lines,
        "next_url": f"{path}?after={encode_cursor(lines[-1].line.fixmedins_code)}"
        if more
        else None,
        "first_url": path if after else None,
        "approvals": approvals,
        "mine": any(a.approver == principal.name for a in approvals),
        "refusal_text": messages.MAKER_CHECKER["daily_batch"] if refusal else None,
        "makers": sorted(queries.batch_makers(session, batch.id)),
        "submission": (policy.submission_time, policy.cutoff_time) if policy else None,
        "daily_ratio": bp_str(policy.daily_ratio_bp) if policy else None,
        "history": _batch_history(session, batch),
        "can_write": can_write(principal),
        "here": path,
        "late": batch.pay_date < today,
        "reason": f"建议暂缓拨付：{hold_line.institution or hold}（{hold}）" if hold_line else "",
    }


def _text_key(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return decode_text_cursor(raw)
    except DomainError:
        return None


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request, batch_id: int, principal: Staff, session: SessionDep, clock: ClockDep
) -> Response:
    view = batch_view(request, session, principal, batch_id, business_date(clock.now()))
    view["notices"] = _notices(request)
    return render(request, "fund/batch.html", view)


def _notices(request: Request) -> list[str]:
    what = {"approved": "已审批", "rejected": "已退回，批次回到医保经办"}
    text = what.get(request.query_params.get("ok", ""))
    return [text] if text else []


@router.post("/batches/{batch_id}/reject")
def reject(
    request: Request,
    batch_id: int,
    principal: Accountant,
    clock: ClockDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reject a pushed batch; the reason is required (the page refuses a blank one)."""
    text = reason.strip()
    error = None
    if not text:
        error = messages.REASON_REQUIRED
    elif len(text) > REASON_CHARS_MAX:
        error = messages.REASON_TOO_LONG
    else:
        try:
            with transaction(request.app.state.session_factory) as session:
                actions.reject_batch(session, batch_id, text, principal, clock.now())
        except DomainError as refused:
            error = messages.refusal_text(refused, doing="reject", entity="daily_batch")
            if refused.status == 404:
                raise
    if error is None:
        return RedirectResponse(
            f"/console/fund/batches/{batch_id}?ok=rejected&doc=daily_batch:{batch_id}",
            status_code=303,
        )
    with request.app.state.session_factory() as session:
        view = batch_view(request, session, principal, batch_id, business_date(clock.now()))
    view.update(errors=[error], reason=reason[:REASON_CHARS_MAX])
    return render(request, "fund/batch.html", view, status=422 if not text else 409)


@router.get("/batches/{batch_id}/lines/{code}", response_class=HTMLResponse)
def line_page(
    request: Request, batch_id: int, code: str, principal: Staff, session: SessionDep
) -> Response:
    """One line of a batch (支付汇总单) and the settlements behind it (明细), paged."""
    batch = queries.batch(session, batch_id)
    line = queries.line(session, batch_id, code[:30])
    raw = request.query_params.get("after")
    try:
        after_id = decode_cursor(raw) if raw else None
    except DomainError:
        after_id = None
    rows = queries.line_settlements(
        session, batch, line.fixmedins_code, after_id=after_id, limit=SETTLEMENTS_PAGE
    )
    more = len(rows) > SETTLEMENTS_PAGE
    rows = rows[:SETTLEMENTS_PAGE]
    path = f"/console/fund/batches/{batch.id}/lines/{line.fixmedins_code}"
    book = books.load(session)
    payments = queries.payments_of(session, "daily_line", line.id)
    return render(
        request,
        "fund/line.html",
        {
            "title": f"支付汇总单 {line.fixmedins_code}",
            "batch": batch,
            "line": line,
            "fund_label": book.label(batch.region_code, batch.insutype),
            "institution": queries.institution(session, line.fixmedins_code),
            "settlements": rows,
            "revoked": queries.revoked_ids(session, [s.id for s in rows]),
            "payments": payments,
            "next_url": f"{path}?after={encode_cursor(rows[-1].id)}" if more else None,
            "first_url": path if raw else None,
        },
    )


# --- statements and clearings ------------------------------------------------------------------


def _document_history(
    session: Any, entity: str, row: Any, kind: str, payments: list[Any]
) -> list[Event]:
    by = SYSTEM if row.computed_by == "system" else row.computed_by
    events = [Event(row.computed_at, "计算生成", by, None, None, "COMPUTED", kind)]
    events += _from_trail(queries.trail_of(session, entity, [str(row.id)]), kind)
    events += _payment_events(payments, kind)
    return sorted(events, key=lambda e: e.at)


@router.get("/statements/{statement_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, statement_id: int, principal: Staff, session: SessionDep, clock: ClockDep
) -> Response:
    """A statement as the accountant approves it: SPEC §4 components, payments, history."""
    statement = queries.statement(session, statement_id, principal)
    book = books.load(session)
    payments = queries.payments_of(session, "statement", statement.id)
    components = [
        ("医保基金支付金额", statement.fund_pay_fen),
        (f"减：质量保证金（{bp_str(statement.deposit_rate_bp)}）", -statement.deposit_fen),
        ("减：审核扣款", -statement.audit_fen),
        ("减：已日拨付", -statement.daily_paid_fen),
        ("减：药耗招采垫付", -statement.procurement_fen),
        ("加：退票", statement.returned_fen),
        ("减：下期抵扣（冲减应收款）", -statement.offset_fen),
    ]
    assert sum(amount for _, amount in components) == statement.net_fen, "components sum to net"
    refusal = queries.statement_refusals(session, [statement.id], principal)[statement.id]
    return render(
        request,
        "fund/document.html",
        {
            "title": f"月度结算单 {period_cn(statement.period)}",
            "entity": "statement",
            "kind": "statement",
            "label": "月度结算单",
            "subtitle": period_cn(statement.period),
            "row": statement,
            "fund_label": book.label(statement.region_code, statement.insutype),
            "institution": queries.institution(session, statement.fixmedins_code),
            "components": components,
            "total_label": "月拨付金额",
            "total_fen": statement.net_fen,
            "payments": payments,
            "history": _document_history(session, "statement", statement, "statement", payments),
            **_approval(statement, refusal, principal, "statement"),
            "notices": _notices(request),
        },
    )


def _approval(row: Any, refusal: str | None, principal: Principal, entity: str) -> dict[str, Any]:
    waiting = row.status in ("CONFIRMED", "FAILED")
    return {
        "can_write": can_write(principal) and waiting,
        "approve_label": "重新审批" if row.status == "FAILED" else "审批通过",
        "refusal_text": messages.MAKER_CHECKER[entity] if refusal and waiting else None,
        "here": f"/console/fund/{'statements' if entity == 'statement' else 'clearings'}/{row.id}",
        "net_text": yuan_text(row.net_fen if entity == "statement" else row.actual_fen),
    }


@router.get("/clearings/{clearing_id}", response_class=HTMLResponse)
def clearing_page(
    request: Request, clearing_id: int, principal: Staff, session: SessionDep
) -> Response:
    """An annual clearing: SPEC §5 components, payments, history."""
    clearing = queries.clearing(session, clearing_id, principal)
    book = books.load(session)
    payments = queries.payments_of(session, "clearing", clearing.id)
    components = [
        ("年度医保基金清算金额", clearing.clearing_amount_fen),
        ("减：月度结算已拨付", -clearing.settled_fen),
        (
            f"减：考核不予支付质量保证金（返还比例 {bp_str(clearing.return_ratio_bp)}）",
            -clearing.forfeited_fen,
        ),
        ("减：下期抵扣（冲减应收款）", -clearing.offset_fen),
    ]
    assert sum(amount for _, amount in components) == clearing.actual_fen, "components sum"
    refusal = queries.clearing_refusals(session, [clearing.id], principal)[clearing.id]
    return render(
        request,
        "fund/document.html",
        {
            "title": f"年度清算单 {clearing.year}年度",
            "entity": "clearing",
            "kind": "clearing",
            "label": "年度清算单",
            "subtitle": f"{clearing.year}年度",
            "row": clearing,
            "fund_label": book.label(clearing.region_code, clearing.insutype),
            "institution": queries.institution(session, clearing.fixmedins_code),
            "components": components,
            "total_label": "年清算实付金额",
            "total_fen": clearing.actual_fen,
            "payments": payments,
            "history": _document_history(session, "clearing", clearing, "clearing", payments),
            **_approval(clearing, refusal, principal, "clearing"),
            "notices": _notices(request),
        },
    )
