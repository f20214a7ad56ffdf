"""The hospital's two answers to a payable document it is asked to confirm (a monthly
statement, an annual clearing, an assistance statement): confirm with the stamped document's
reference, or dispute with a reason. One form check, one transaction, the domain's refusal
shown in Chinese on the page (409), 404 left to the error page, POST-redirect-GET on success.
Each page gives its own detail renderer and the domain action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fastapi import Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import Principal
from app.console.hospital import messages
from app.console.hospital.common import (
    REASON_CHARS_MAX,
    REFERENCE_CHARS_MAX,
    form_text,
    see_other,
)
from app.errors import DomainError


class Detail(Protocol):
    """A page's renderer of one document, with errors and the form as typed."""

    def __call__(
        self,
        request: Request,
        session: Session,
        principal: Principal,
        document_id: int,
        /,
        *,
        errors: list[str] | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Response: ...


def confirm(
    request: Request,
    session: Session,
    principal: Principal,
    document_id: int,
    reference: str,
    *,
    detail: Detail,
    act: Callable[[str | None], object],
    reference_name: str,
    path: str,
) -> Response:
    """Confirm with the reference of the stamped document (`reference_name`: 确认单编号,
    确认书编号), optional."""
    text = form_text(reference, REFERENCE_CHARS_MAX)
    if len(text) > REFERENCE_CHARS_MAX:
        errors = [f"{reference_name}最多 {REFERENCE_CHARS_MAX} 个字符。"]
        return detail(request, session, principal, document_id, errors=errors, status=422)
    return _act(
        request,
        session,
        principal,
        document_id,
        detail,
        lambda: act(text or None),
        f"{path}/{document_id}?done=confirmed",
    )


def dispute(
    request: Request,
    session: Session,
    principal: Principal,
    document_id: int,
    reason: str,
    *,
    detail: Detail,
    act: Callable[[str], object],
    path: str,
) -> Response:
    """Dispute with a reason (required, ≤ REASON_CHARS_MAX); a refused reason stays in the
    form as typed (up to twice the limit) for the user to shorten."""
    text = form_text(reason, REASON_CHARS_MAX)
    if not text or len(text) > REASON_CHARS_MAX:
        error = "请填写异议原因。" if not text else f"异议原因最多 {REASON_CHARS_MAX} 个字符。"
        form = {"reason": reason[: REASON_CHARS_MAX * 2]}
        return detail(
            request, session, principal, document_id, errors=[error], status=422, form=form
        )
    return _act(
        request,
        session,
        principal,
        document_id,
        detail,
        lambda: act(text),
        f"{path}/{document_id}?done=disputed",
    )


def _act(
    request: Request,
    session: Session,
    principal: Principal,
    document_id: int,
    detail: Detail,
    action: Callable[[], object],
    done: str,
) -> Response:
    try:
        with session.begin():
            action()
    except DomainError as error:
        if error.status == 404:
            raise
        errors = messages.chinese(error)
        return detail(request, session, principal, document_id, errors=errors, status=409)
    return see_other(done)
