"""Every write of the accountant's pages, in one adapter: the same domain service functions
the API routes call (one transaction per request is opened by the page). When the domain
services are renamed, only this module follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.annual import service as annual
from app.assistance import person_payments
from app.assistance import statements as assistance_statements
from app.auth.principal import Principal
from app.daily import service as daily
from app.institutions import payees
from app.monthly import receivables, statements
from app.treasury import service as treasury


def approve_batch(session: Session, batch_id: int, actor: Principal, now: datetime) -> None:
    daily.approve(session, batch_id, actor=actor, now=now)


def approve_statement(session: Session, statement_id: int, actor: Principal, now: datetime) -> None:
    """Approve a confirmed statement, or re-approve one whose payment failed."""
    statements.FLOW.approve(session, statement_id, actor=actor, now=now)


def approve_clearing(session: Session, clearing_id: int, actor: Principal, now: datetime) -> None:
    """Approve a confirmed clearing, or re-approve one whose payment failed."""
    annual.FLOW.approve(session, clearing_id, actor=actor, now=now)


def reject_batch(
    session: Session, batch_id: int, reason: str, actor: Principal, now: datetime
) -> None:
    daily.reject(session, batch_id, reason, actor=actor, now=now)


def appropriate(
    session: Session,
    *,
    region_code: str,
    insutype: str,
    amount_fen: int,
    reference: str,
    actor: Principal,
    now: datetime,
) -> bool:
    """Record an appropriation; False when the same reference was recorded already."""
    _, created = treasury.appropriate(
        session,
        region_code=region_code,
        insutype=insutype,
        amount_fen=amount_fen,
        reference=reference,
        actor=actor,
        now=now,
    )
    return created


def repay(
    session: Session,
    *,
    region_code: str,
    insutype: str,
    fixmedins_code: str,
    amount_fen: int,
    receipt_no: str,
    actor: Principal,
    now: datetime,
) -> bool:
    """Record a cash repayment; False when the same receipt was recorded already."""
    _, created = receivables.repay(
        session,
        region=region_code,
        insutype=insutype,
        code=fixmedins_code,
        amount_fen=amount_fen,
        receipt_no=receipt_no,
        actor=actor,
        now=now,
    )
    return created


def approve_payee_change(
    session: Session, code: str, change_id: int, actor: Principal, now: datetime
) -> None:
    """The second person approves a change of an institution's payee (收款账户变更)."""
    payees.approve(session, code, change_id, actor=actor, now=now)


def reject_payee_change(
    session: Session, code: str, change_id: int, note: str, actor: Principal, now: datetime
) -> None:
    payees.reject(session, code, change_id, note, actor=actor, now=now)


def approve_assistance_statement(
    session: Session, statement_id: int, actor: Principal, now: datetime
) -> None:
    """Approve a confirmed assistance statement (the 610 fund), or re-approve a failed one."""
    assistance_statements.FLOW.approve(session, statement_id, actor=actor, now=now)


def approve_person_payment(
    session: Session, payment_id: int, actor: Principal, now: datetime
) -> None:
    """Approve a payment to a person (maker–checker; the person's delivered claims deducted),
    or re-approve a failed or returned one for a resend."""
    person_payments.approve(session, payment_id, actor=actor, now=now)


def reject_person_payment(
    session: Session, payment_id: int, reason: str, actor: Principal, now: datetime
) -> None:
    person_payments.reject(session, payment_id, reason, actor=actor, now=now)
