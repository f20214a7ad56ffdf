"""What the person-year reads of applications (SPEC-ASSISTANCE A4 items, A7 granted): the
invoices of the person's live (not rejected) applications as items, and the applications'
amounts per year. Reads only."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assistance.person_models import ApplicationInvoice, PersonPayment, PersonPaymentYear
from app.assistance.person_status import PaymentKind, PersonPaymentStatus
from app.assistance.policy import Insurers, Item, Visit, gross_base, invoice_time


def invoice_items(session: Session, psn_no: str) -> list[Item]:
    """The invoices of the person's live (not rejected) applications as A4 items."""
    rows = session.scalars(
        select(ApplicationInvoice)
        .join(PersonPayment, PersonPayment.id == ApplicationInvoice.payment_id)
        .where(PersonPayment.psn_no == psn_no, ApplicationInvoice.active_invoice_no.is_not(None))
        .order_by(ApplicationInvoice.id)
    )
    return [
        Item(
            key=f"I:{row.invoice_no}",
            at=invoice_time(row.invoice_date),
            visit=Visit(row.visit),
            gross_base_fen=gross_base(
                row.inscp_scp_amt_fen,
                Insurers(
                    hifp_fen=row.hifp_pay_fen,
                    hifob_fen=row.hifob_pay_fen,
                    hifmi_fen=row.hifmi_pay_fen,
                    cvlserv_fen=row.cvlserv_pay_fen,
                    hifes_fen=row.hifes_pay_fen,
                    oth_fen=row.oth_pay_fen,
                ),
            ),
        )
        for row in rows
    ]


def granted_by_year(session: Session, psn_no: str) -> dict[int, int]:
    """Σ application amounts (before deduction) per year, rejected ones out (A7 granted)."""
    rows = session.execute(
        select(PersonPaymentYear.year, func.sum(PersonPaymentYear.amount_fen))
        .join(PersonPayment, PersonPayment.id == PersonPaymentYear.payment_id)
        .where(
            PersonPayment.psn_no == psn_no,
            PersonPayment.kind == PaymentKind.APPLICATION.value,
            PersonPayment.status != PersonPaymentStatus.REJECTED.value,
        )
        .group_by(PersonPaymentYear.year)
        .order_by(PersonPaymentYear.year)
    ).all()
    return {year: int(total) for year, total in rows}
