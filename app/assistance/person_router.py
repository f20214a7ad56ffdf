"""Medical-assistance API, the person side (API.md "Medical assistance"; SPEC-ASSISTANCE A6,
A7, A10): applications and care grants (operator = the street-office case worker), person
payments (approve and reject: accountant, maker–checker), notices, cash repayments
(accountant), person receivables. Staff only; hospitals never see persons here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.orm import Session

from app.assistance import applications, claims, person_payments, person_reads
from app.assistance.person_models import PersonClaim, PersonPayment, PersonRepayment
from app.assistance.person_schemas import (
    ApplicationIn,
    CareGrantIn,
    ClaimOut,
    PaymentRejectIn,
    PersonPaymentOut,
    PersonReceivableOut,
    PersonRepaymentIn,
    RepaymentOut,
    YearAmountOut,
)
from app.assistance.person_status import KindValue, StatusValue
from app.assistance.schemas import PsnNo
from app.auth.deps import Accountant, Operator, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)

PaymentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="person payment id")]
ClearingReference = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]


def payment_out(
    session: Session, payment: PersonPayment, years: dict[int, int] | None = None
) -> PersonPaymentOut:
    if years is None:
        years = applications.years_of(session, payment.id)
    return PersonPaymentOut(
        id=payment.id,
        kind=payment.kind,
        reference=payment.reference,
        psn_no=payment.psn_no,
        region_code=payment.region_code,
        amount=payment.amount_fen,
        deducted=payment.deducted_fen,
        paid=payment.paid_fen,
        status=payment.status,
        years=[YearAmountOut(year=year, amount=amount) for year, amount in years.items()],
        disease=payment.disease,
        recorded_at=payment.recorded_at,
        recorded_by=payment.recorded_by,
        approved_at=payment.approved_at,
        approved_by=payment.approved_by,
        rejected_at=payment.rejected_at,
        reject_reason=payment.reject_reason,
        instruction_id=payment.instruction_id,
    )


def claim_out(claim: PersonClaim) -> ClaimOut:
    return ClaimOut(
        reference=claim.reference,
        psn_no=claim.psn_no,
        region=claim.region_code,
        year=claim.year,
        amount=claim.amount_fen,
        open=claim.open_fen,
        resolution=claim.resolution,
        made_at=claim.made_at,
        notice_delivered_at=claim.notice_delivered_at,
    )


def repayment_out(session: Session, repayment: PersonRepayment) -> RepaymentOut:
    return RepaymentOut(
        receipt_no=repayment.receipt_no,
        psn_no=repayment.psn_no,
        region=repayment.region_code,
        amount=repayment.amount_fen,
        claims=claims.repayment_claims(session, repayment.id),
        recorded_at=repayment.recorded_at,
    )


@router.post("/applications", status_code=201)
def record_application(
    body: ApplicationIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> PersonPaymentOut:
    """An application (A6): 201 recorded, 200 the same again, 409 the reference with other
    content or an invoice in another live application."""
    with session.begin():
        payment, created = applications.record_application(
            session, body, actor=actor, now=clock.now()
        )
        if not created:
            response.status_code = 200
        return payment_out(session, payment)


@router.post("/care-grants", status_code=201)
def record_care_grant(
    body: CareGrantIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> PersonPaymentOut:
    """The care grant (A6, A10): 201 recorded, 200 the same again, 409 a second grant."""
    with session.begin():
        payment, created = applications.record_care_grant(
            session, body, actor=actor, now=clock.now()
        )
        if not created:
            response.status_code = 200
        return payment_out(session, payment)


@router.get("/person-payments")
def list_person_payments(
    principal: Staff,
    session: SessionDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    psn_no: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,30}$")] = None,
    kind: KindValue | None = None,
    status: StatusValue | None = None,
) -> Page[PersonPaymentOut]:
    rows = person_reads.listing(
        session,
        psn_no=psn_no,
        kind=kind,
        status=status,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    years = applications.years_of_payments(session, [row.id for row in page])
    return Page(
        items=[payment_out(session, row, years[row.id]) for row in page], next_cursor=next_cursor
    )


@router.get("/person-payments/{payment_id}")
def get_person_payment(
    payment_id: PaymentId, principal: Staff, session: SessionDep
) -> PersonPaymentOut:
    return payment_out(session, person_payments.get(session, payment_id))


@router.post("/person-payments/{payment_id}/approve")
def approve_person_payment(
    payment_id: PaymentId, actor: Accountant, session: SessionDep, clock: ClockDep
) -> PersonPaymentOut:
    """Approve (maker–checker), deducting the person's delivered next-period claims; or
    re-approve a FAILED or RETURNED payment for a resend. Again: unchanged."""
    with session.begin():
        payment = person_payments.approve(session, payment_id, actor=actor, now=clock.now())
        return payment_out(session, payment)


@router.post("/person-payments/{payment_id}/reject")
def reject_person_payment(
    payment_id: PaymentId,
    body: PaymentRejectIn,
    actor: Accountant,
    session: SessionDep,
    clock: ClockDep,
) -> PersonPaymentOut:
    with session.begin():
        payment = person_payments.reject(
            session, payment_id, body.reason, actor=actor, now=clock.now()
        )
        return payment_out(session, payment)


@router.post("/clearings/{reference}/notice-delivered")
def notice_delivered(
    reference: ClearingReference, actor: Operator, session: SessionDep, clock: ClockDep
) -> ClaimOut:
    """事前告知 delivered for the claim of clearing `reference` (404 unknown; again: unchanged)."""
    with session.begin():
        return claim_out(claims.notice_delivered(session, reference, actor=actor, now=clock.now()))


@router.post("/person-repayments", status_code=201)
def record_person_repayment(
    body: PersonRepaymentIn,
    actor: Accountant,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> RepaymentOut:
    """A cash repayment (现金追款): 201 recorded, 200 the same receipt again, 409 the receipt
    with other content, 422 `repayment_beyond_receivable`."""
    with session.begin():
        repayment, created = claims.record_repayment(
            session,
            psn_no=body.psn_no,
            region_code=body.region,
            amount_fen=body.amount,
            receipt_no=body.receipt_no,
            actor=actor,
            now=clock.now(),
        )
        if not created:
            response.status_code = 200
        return repayment_out(session, repayment)


@router.get("/person-receivables")
def person_receivables(
    principal: Staff,
    session: SessionDep,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    psn_no: PsnNo | None = None,
) -> list[PersonReceivableOut]:
    """What each person owes (one row per recipient, zero included), by region and psn_no."""
    rows = claims.receivables(session, region_code=region, psn_no=psn_no)
    return [
        PersonReceivableOut(region=row["region"], psn_no=row["psn_no"], balance=row["balance_fen"])
        for row in rows
    ]
