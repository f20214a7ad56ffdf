"""Reads of the accountant's medical-assistance pages: the hospitals' assistance statements
(救助结算单, a payable document of the 610 fund) and the payments to persons waiting for
approval (救助支付审批), with why the viewer may not approve them. Each list one bounded
query; no rule here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import person_payments
from app.assistance import statements as assistance_statements
from app.assistance.models import Recipient
from app.assistance.person_models import PersonPayment, PersonPaymentYear
from app.assistance.person_status import RESENDABLE, PersonPaymentStatus
from app.assistance.statement_models import AssistanceStatement
from app.auth.principal import Principal
from app.console.display import period_cn
from app.console.fund.queries import IDS_MAX, Summary

ASSISTANCE = "610"
PAYMENTS_MAX = 500
WAITING = (PersonPaymentStatus.PENDING_APPROVAL.value, *(s.value for s in RESENDABLE))


# --- assistance statements ----------------------------------------------------------------


def statement_summaries(session: Session, ids: list[int]) -> dict[int, Summary]:
    assert len(ids) <= IDS_MAX
    return {
        s.id: Summary(
            id=s.id,
            title=period_cn(s.period),
            region_code=s.region_code,
            insutype=s.insutype,
            fixmedins_code=s.fixmedins_code,
            amount_fen=s.amount_fen,
            hospitals=1,
            status=s.status,
        )
        for s in session.scalars(select(AssistanceStatement).where(AssistanceStatement.id.in_(ids)))
    }


def statement_refusals(
    session: Session, ids: list[int], viewer: Principal
) -> dict[int, str | None]:
    """Why the viewer may not approve each assistance statement: the flow's own rule."""
    assert len(ids) <= IDS_MAX
    rows = session.scalars(select(AssistanceStatement).where(AssistanceStatement.id.in_(ids)))
    return {s.id: assistance_statements.FLOW.approval_refusal(s, viewer) for s in rows}


def statement(session: Session, statement_id: int, viewer: Principal) -> AssistanceStatement:
    return assistance_statements.FLOW.get(session, statement_id, actor=viewer)


def statement_lines(session: Session, statement_id: int) -> list[tuple[object, str]]:
    return list(assistance_statements.lines_of(session, statement_id))


# --- payments to persons --------------------------------------------------------------------


def payment_summaries(session: Session, ids: list[int]) -> dict[int, Summary]:
    assert len(ids) <= IDS_MAX
    return {
        p.id: Summary(
            id=p.id,
            title=f"{p.reference}（{p.psn_no}）",
            region_code=p.region_code,
            insutype=ASSISTANCE,
            fixmedins_code=None,
            amount_fen=p.amount_fen,
            hospitals=1,
            status=p.status,
        )
        for p in session.scalars(select(PersonPayment).where(PersonPayment.id.in_(ids)))
    }


def payment_refusal(payment: PersonPayment, viewer: Principal) -> str | None:
    """The service's maker–checker rule (person_payments.approve and reject refuse whoever
    recorded the payment), read before anyone clicks."""
    if viewer.name == payment.recorded_by:
        return person_payments.MAKER_CHECKER
    return None


def payment_refusals(session: Session, ids: list[int], viewer: Principal) -> dict[int, str | None]:
    assert len(ids) <= IDS_MAX
    rows = session.scalars(select(PersonPayment).where(PersonPayment.id.in_(ids)))
    return {p.id: payment_refusal(p, viewer) for p in rows}


@dataclass(frozen=True)
class WaitingPayment:
    payment: PersonPayment
    name: str | None
    bank_ready: bool
    years: dict[int, int]
    refusal: str | None


def waiting_payments(
    session: Session, viewer: Principal, *, region_code: str | None, kind: str | None
) -> list[WaitingPayment]:
    """Payments waiting for an accountant (approval, or re-approval after a failed or returned
    payment), oldest first; three queries whatever their number."""
    query = (
        select(PersonPayment)
        .where(PersonPayment.status.in_(WAITING))
        .order_by(PersonPayment.recorded_at, PersonPayment.id)
        .limit(PAYMENTS_MAX)
    )
    if region_code is not None:
        query = query.where(PersonPayment.region_code == region_code)
    if kind is not None:
        query = query.where(PersonPayment.kind == kind)
    payments = list(session.scalars(query))
    people = {p.psn_no for p in payments}
    registered = {
        r.psn_no: r
        for r in session.scalars(select(Recipient).where(Recipient.psn_no.in_(sorted(people))))
    }
    years: dict[int, dict[int, int]] = {p.id: {} for p in payments}
    for row in session.scalars(
        select(PersonPaymentYear).where(PersonPaymentYear.payment_id.in_(list(years)))
    ):
        years[row.payment_id][row.year] = row.amount_fen
    found = []
    for p in payments:
        person = registered.get(p.psn_no)
        found.append(
            WaitingPayment(
                payment=p,
                name=person.name if person else None,
                bank_ready=bool(
                    person and person.bank_account and person.bank_account_name and person.bank_code
                ),
                years=years[p.id],
                refusal=payment_refusal(p, viewer),
            )
        )
    return found
