"""Every write of the hospital pages, in one place: each calls the domain service the API's
route calls (same rules, same refusals), inside the page's one transaction. When the domains'
function names change (issue 15), this module is re-pointed and nothing else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.annual import service as annual
from app.auth.principal import Principal
from app.errors import NotFound
from app.monthly import attachments, declarations, statements
from app.monthly.models import AuditAttachment, AuditItem


def confirm_statement(
    session: Session, statement_id: int, reference: str | None, *, actor: Principal, now: datetime
) -> None:
    statements.FLOW.confirm(session, statement_id, reference=reference, actor=actor, now=now)


def dispute_statement(
    session: Session, statement_id: int, reason: str, *, actor: Principal, now: datetime
) -> None:
    statements.FLOW.dispute(session, statement_id, reason, actor=actor, now=now)


def confirm_clearing(
    session: Session, clearing_id: int, reference: str | None, *, actor: Principal, now: datetime
) -> None:
    annual.FLOW.confirm(session, clearing_id, reference=reference, actor=actor, now=now)


def dispute_clearing(
    session: Session, clearing_id: int, reason: str, *, actor: Principal, now: datetime
) -> None:
    annual.FLOW.dispute(session, clearing_id, reason, actor=actor, now=now)


def appeal(
    session: Session,
    item_id: int,
    reason: str,
    file: tuple[str, bytes] | None,
    *,
    actor: Principal,
    now: datetime,
) -> AuditAttachment | None:
    """Appeal an audit result of the institution, with an optional file (all or nothing)."""
    item = session.get(AuditItem, item_id)
    if item is None or (actor.is_hospital and item.fixmedins_code != actor.fixmedins_code):
        raise NotFound(f"no audit result {item_id}")
    _, stored = attachments.appeal(session, item, reason, file=file, actor=actor, now=now)
    return stored


def declare(
    session: Session, code: str, insutype: str, period: str, *, actor: Principal, now: datetime
) -> bool:
    """Declare the period (月度申报); False when it was declared already."""
    _, created = declarations.declare(session, code, insutype, period, actor=actor, now=now)
    return created


def add_file(
    session: Session, item_id: int, file: tuple[str, bytes], *, actor: Principal, now: datetime
) -> AuditAttachment:
    """A further file for an appeal not yet reviewed."""
    row, _ = attachments.add(
        session, item_id, filename=file[0], content=file[1], actor=actor, now=now
    )
    return row
