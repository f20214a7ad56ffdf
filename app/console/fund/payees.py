"""收款账户变更 (payee changes) for the second person: the pending requests with the account
they replace and the one they bring, approved or rejected by an accountant other than the
requester (docs/rules.md "Payee changes"); the recent decisions below. Staff read it, only an
accountant decides here (admins decide through the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.console.fund import actions
from app.console.fund.access import Accountant, Staff, can_write
from app.console.security import ConsoleRoute
from app.console.templating import render
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.http import IdPath
from app.institutions import service as institutions
from app.institutions.models import PayeeChange

router = APIRouter(prefix="/console/fund", route_class=ConsoleRoute, include_in_schema=False)

PAGE = "/console/fund/payees"
RECENT = 50
Code = Annotated[str, Path(pattern=r"^[A-Z0-9]{1,12}$")]
NOTICES = {
    "approved": "已复核通过，此后生成的支付指令付往新账户。",
    "rejected": "已驳回，收款账户不变。",
}
REFUSALS = {
    Forbidden: "您是该变更的申请人（或无复核权限）：收款账户变更须由另一位会计或管理员复核。",
    Conflict: "该变更已不在待复核状态（可能已被其他人处理），请刷新页面查看最新状态。",
    NotFound: "没有找到该收款账户变更。",
}


def _view(session: Session) -> dict[str, object]:
    pending = list(
        session.scalars(
            select(PayeeChange).where(PayeeChange.status == "PENDING").order_by(PayeeChange.id)
        )
    )
    decided = list(
        session.scalars(
            select(PayeeChange)
            .where(PayeeChange.status != "PENDING")
            .order_by(PayeeChange.decided_at.desc(), PayeeChange.id.desc())
            .limit(RECENT)
        )
    )
    codes = [change.fixmedins_code for change in pending + decided]
    return {
        "title": "收款账户变更",
        "pending": pending,
        "decided": decided,
        "names": institutions.institution_names(session, codes),
    }


@router.get("/payees", response_class=HTMLResponse)
def payees_page(request: Request, principal: Staff, session: SessionDep) -> Response:
    view = _view(session)
    notice = NOTICES.get(request.query_params.get("ok", ""))
    view.update(can_write=can_write(principal), notices=[notice] if notice else [], errors=[])
    return render(request, "fund/payees.html", view)


def _decide(
    request: Request,
    principal: Accountant,
    clock: ClockDep,
    code: str,
    change_id: int,
    note: str | None,
) -> Response:
    try:
        with transaction(request.app.state.session_factory) as session:
            if note is None:
                actions.approve_payee_change(session, code, change_id, principal, clock.now())
            else:
                actions.reject_payee_change(session, code, change_id, note, principal, clock.now())
    except DomainError as error:
        text = next(
            (t for kind, t in REFUSALS.items() if isinstance(error, kind)),
            f"操作未完成（{error.detail}）。",
        )
        with request.app.state.session_factory() as session:
            view = _view(session)
        view.update(can_write=True, notices=[], errors=[text])
        return render(request, "fund/payees.html", view, status=error.status)
    ok = "approved" if note is None else "rejected"
    return RedirectResponse(f"{PAGE}?ok={ok}", status_code=303)


@router.post("/payees/{code}/{change_id}/approve")
def approve(
    request: Request, code: Code, change_id: IdPath, principal: Accountant, clock: ClockDep
) -> Response:
    return _decide(request, principal, clock, code, change_id, None)


@router.post("/payees/{code}/{change_id}/reject")
def reject(
    request: Request,
    code: Code,
    change_id: IdPath,
    principal: Accountant,
    clock: ClockDep,
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not note.strip():
        with request.app.state.session_factory() as session:
            view = _view(session)
        view.update(can_write=True, notices=[], errors=["请填写驳回原因（不能为空）。"])
        return render(request, "fund/payees.html", view, status=422)
    return _decide(request, principal, clock, code, change_id, note.strip())
