"""The accountant's medical-assistance pages: 救助支付审批 (payments to persons waiting for
approval or re-approval: approve through the queue's approve route, reject with a reason;
maker–checker shown before anyone clicks and refused by the service on a forced POST) and
one assistance statement (救助结算单: lines, negative lines, offset, payments, history;
approved from the 待审批 queue like every payable document)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.console import assistance_labels as names
from app.console.display import period_cn, yuan_text
from app.console.fund import actions, assistance_queries, documents, messages, queries
from app.console.fund import book as books
from app.console.fund.access import Accountant, Staff, can_write
from app.console.listing import Filter, read_query
from app.console.security import ConsoleRoute
from app.console.templating import render
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.http import IdPath
from app.institutions import service as institutions

router = APIRouter(prefix="/console/fund", route_class=ConsoleRoute, include_in_schema=False)

PAYMENTS_PATH = "/console/fund/assistance/payments"
REASON_CHARS_MAX = 300
DONE = {
    "approved": "已审批：救助金将随下一次提交（工作日 14:30）拨付到本人账户。",
    "reapproved": "已重新审批，将以新的指令号随下一次提交发送银行。",
    "rejected": "已驳回该笔救助金，登记人可查看驳回原因。",
}


def _filters(session: Session) -> list[Filter]:
    regions = [(r.code, f"{r.name}（{r.code}）") for r in institutions.list_regions(session)]
    return [
        Filter("region", "统筹区", "select", options=regions),
        Filter("kind", "类型", "select", options=list(names.PAYMENT_KINDS.items())),
    ]


def _payments_view(
    request: Request, session: Session, principal: Principal, *, errors: list[str] | None = None
) -> dict[str, Any]:
    filters = _filters(session)
    query = read_query(request.query_params, filters)
    rows = assistance_queries.waiting_payments(
        session, principal, region_code=query.get("region"), kind=query.get("kind")
    )
    ok = request.query_params.get("ok", "")
    return {
        "title": "救助支付审批",
        "filters": filters,
        "query": query,
        "rows": rows,
        "names": names,
        "shown_max": assistance_queries.PAYMENTS_MAX,
        "can_write": can_write(principal),
        "maker_checker": messages.MAKER_CHECKER["person_payment"],
        "here": PAYMENTS_PATH,
        "notices": [DONE[ok]] if ok in DONE else [],
        "errors": (errors or []) + query.errors,
        "total_fen": sum(row.payment.amount_fen for row in rows),
    }


@router.get("/assistance/payments", response_class=HTMLResponse)
def payments_page(request: Request, principal: Staff, session: SessionDep) -> Response:
    view = _payments_view(request, session, principal)
    status = 422 if view["errors"] else 200
    return render(request, "fund/assistance_payments.html", view, status=status)


@router.post("/assistance/payments/{payment_id}/reject")
def reject_payment(
    request: Request,
    payment_id: IdPath,
    principal: Accountant,
    clock: ClockDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reject a payment awaiting approval; a reason is required (the page refuses a blank
    one); the service refuses whoever recorded it."""
    text = reason.strip()
    status = 422
    if not text:
        error = messages.REASON_REQUIRED.replace("退回", "驳回")
    elif len(text) > REASON_CHARS_MAX:
        error = messages.REASON_TOO_LONG.replace("退回", "驳回")
    else:
        try:
            with transaction(request.app.state.session_factory) as session:
                actions.reject_person_payment(session, payment_id, text, principal, clock.now())
            return RedirectResponse(
                f"{PAYMENTS_PATH}?ok=rejected&doc=person_payment:{payment_id}", status_code=303
            )
        except DomainError as refused:
            if refused.status == 404:
                raise
            error = messages.refusal_text(refused, doing="reject", entity="person_payment")
            status = refused.status
    with request.app.state.session_factory() as session:
        view = _payments_view(request, session, principal, errors=[error])
    return render(request, "fund/assistance_payments.html", view, status=status)


@router.get("/assistance-statements/{statement_id}", response_class=HTMLResponse)
def statement_page(
    request: Request, statement_id: IdPath, principal: Staff, session: SessionDep
) -> Response:
    """An assistance statement as the accountant approves it: lines − negative lines −
    offset, its lines, payments and history."""
    statement = assistance_queries.statement(session, statement_id, principal)
    book = books.load(session)
    payments = queries.payments_of(session, "assistance_statement", statement.id)
    components = [
        (f"本期救助垫付（{statement.settlements} 笔结算）", statement.lines_fen),
        ("减：已撤销结算冲回", -statement.negative_fen),
        ("减：下期抵扣（冲减救助应收款）", -statement.offset_fen),
    ]
    assert sum(amount for _, amount in components) == statement.amount_fen, "components sum"
    refusal = assistance_queries.statement_refusals(session, [statement.id], principal)
    waiting = statement.status in ("CONFIRMED", "FAILED")
    history = documents._document_history(
        session, "assistance_statement", statement, "assistance_statement", payments
    )
    return render(
        request,
        "fund/assistance_statement.html",
        {
            "title": f"救助结算单 {period_cn(statement.period)}",
            "entity": "assistance_statement",
            "kind": "assistance_statement",
            "label": "救助结算单",
            "subtitle": period_cn(statement.period),
            "row": statement,
            "fund_label": book.label(statement.region_code, statement.insutype),
            "institution": queries.institution(session, statement.fixmedins_code),
            "components": components,
            "total_label": "本期救助拨付金额",
            "total_fen": statement.amount_fen,
            "payments": payments,
            "history": history,
            "lines": assistance_queries.statement_lines(session, statement.id),
            "can_write": can_write(principal) and waiting,
            "approve_label": "重新审批" if statement.status == "FAILED" else "审批通过",
            "refusal_text": messages.MAKER_CHECKER["assistance_statement"]
            if refusal.get(statement.id) and waiting
            else None,
            "here": f"/console/fund/assistance-statements/{statement.id}",
            "net_text": yuan_text(statement.amount_fen),
            "notices": documents._notices(request),
        },
    )
