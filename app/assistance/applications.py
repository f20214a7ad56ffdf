"""Applications (救助申请 / 零星报销, SPEC-ASSISTANCE A6) and care grants (大病关怀救助, A6, A10):
recorded by a case worker as payments to persons awaiting approval. Flush-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import (
    application_amount,
    care_grant_policy,
    claims,
    person_payments,
    recipients,
)
from app.assistance.models import Recipient
from app.assistance.person_models import ApplicationInvoice, PersonPayment, PersonPaymentYear
from app.assistance.person_schemas import ApplicationIn, CareGrantIn, InvoiceIn
from app.assistance.person_status import PaymentKind, PersonPaymentStatus
from app.assistance.policy import (
    Category,
    Insurers,
    Item,
    categories_on,
    gross_base,
    invoice_time,
)
from app.auth.principal import Principal
from app.clock import business_date
from app.db import any_of, in_chunks
from app.errors import Conflict, Invalid
from app.institutions import service as institutions

ASSISTANCE = "610"


def _recipient(session: Session, psn_no: str) -> Recipient:
    """The person, in the register, of a region with an assistance fund ledger (422)."""
    recipient = recipients.find(session, psn_no)
    if recipient is None:
        raise Invalid.field("psn_no", "not_a_recipient", f"{psn_no} is not in the register")
    if institutions.find_fund_ledger(session, recipient.region_code, ASSISTANCE) is None:
        raise Invalid.field(
            "psn_no", "no_assistance_fund", f"region {recipient.region_code} has no 610 fund"
        )
    person_payments.person_slot_checked(psn_no)
    return recipient


def invoice_item(invoice: InvoiceIn) -> Item:
    """An invoice as an item of A4: key `I:<invoice_no>`, at its date 00:00 Shanghai time."""
    insurers = Insurers(
        hifp_fen=invoice.hifp_pay,
        hifob_fen=invoice.hifob_pay,
        hifmi_fen=invoice.hifmi_pay,
        cvlserv_fen=invoice.cvlserv_pay,
        hifes_fen=invoice.hifes_pay,
        oth_fen=invoice.oth_pay,
    )
    return Item(
        key=f"I:{invoice.invoice_no}",
        at=invoice_time(invoice.date),
        visit=invoice.visit,
        gross_base_fen=gross_base(invoice.inscp_scp_amt, insurers),
    )


def record_application(
    session: Session, data: ApplicationIn, *, actor: Principal, now: datetime
) -> tuple[PersonPayment, bool]:
    """Record an application and its invoices; its amount per year is marginal, fixed now
    (`application_amount`). (row, True) recorded; (row, False) the same again; the reference
    with other content, or an invoice in another live application, is a conflict."""
    content = data.model_dump(mode="json")
    # The person's lock first: two applications at once would both compute their marginal
    # amount over the same baseline (found by review); the same one twice is then a replay.
    claims.lock_person(session, data.psn_no)
    existing = person_payments.replay_of(session, PaymentKind.APPLICATION, data.reference, content)
    if existing is not None:
        return existing, False
    recipient = _recipient(session, data.psn_no)
    numbers = [invoice.invoice_no for invoice in data.invoices]
    taken = session.scalars(
        select(ApplicationInvoice.invoice_no).where(
            ApplicationInvoice.active_invoice_no.in_(numbers)
        )
    ).all()
    if taken:
        raise Conflict(
            f"invoice {sorted(taken)[0]} is in another application", code="invoice-recorded"
        )
    years = application_amount.amount_of_application(
        session, data.psn_no, [invoice_item(invoice) for invoice in data.invoices], now
    )
    payment = person_payments.record(
        session,
        kind=PaymentKind.APPLICATION,
        reference=data.reference,
        psn_no=data.psn_no,
        region_code=recipient.region_code,
        amount_fen=sum(years.values()),
        content=content,
        actor=actor,
        now=now,
    )
    for year, amount in sorted(years.items()):
        session.add(PersonPaymentYear(payment_id=payment.id, year=year, amount_fen=amount))
    for invoice in data.invoices:
        session.add(
            ApplicationInvoice(
                payment_id=payment.id,
                invoice_no=invoice.invoice_no,
                active_invoice_no=invoice.invoice_no,
                visit=invoice.visit.value,
                invoice_date=invoice.date,
                medfee_sumamt_fen=invoice.medfee_sumamt,
                inscp_scp_amt_fen=invoice.inscp_scp_amt,
                hifp_pay_fen=invoice.hifp_pay,
                hifob_pay_fen=invoice.hifob_pay,
                hifmi_pay_fen=invoice.hifmi_pay,
                cvlserv_pay_fen=invoice.cvlserv_pay,
                hifes_pay_fen=invoice.hifes_pay,
                oth_pay_fen=invoice.oth_pay,
            )
        )
    session.flush()
    return payment, True


def years_of(session: Session, payment_id: int) -> dict[int, int]:
    return years_of_payments(session, [payment_id])[payment_id]


def years_of_payments(session: Session, payment_ids: list[int]) -> dict[int, dict[int, int]]:
    """Each payment's amounts by year, in year order: one query for a page of payments."""
    found: dict[int, dict[int, int]] = {payment_id: {} for payment_id in payment_ids}
    for chunk in in_chunks(session, sorted(found)):
        rows = session.execute(
            select(
                PersonPaymentYear.payment_id, PersonPaymentYear.year, PersonPaymentYear.amount_fen
            )
            .where(any_of(session, PersonPaymentYear.payment_id, chunk))
            .order_by(PersonPaymentYear.payment_id, PersonPaymentYear.year)
        ).all()
        for payment_id, year, amount in rows:
            found[payment_id][year] = amount
    return found


def record_care_grant(
    session: Session, data: CareGrantIn, *, actor: Principal, now: datetime
) -> tuple[PersonPayment, bool]:
    """A care grant: the person holds `poverty_registered` today (422), the disease is listed
    when the policy lists diseases (422), once per person ever, a rejected one not counting
    (409). Amount: the given one, else the policy's `care_grant` (5,000.00 by default)."""
    content = data.model_dump(mode="json")
    claims.lock_person(session, data.psn_no)  # before the replay check and the once-ever rule
    existing = person_payments.replay_of(session, PaymentKind.GRANT, data.reference, content)
    if existing is not None:
        return existing, False
    recipient = _recipient(session, data.psn_no)
    today = business_date(now)
    held = categories_on(recipients.holdings(session, recipient.id), today)
    if Category.POVERTY_REGISTERED not in held:
        raise Invalid.field(
            "psn_no", "not_poverty_registered", "the person is not poverty_registered today"
        )
    diseases = care_grant_policy.care_grant_diseases(session, recipient.region_code, today)
    if diseases and data.disease not in diseases:
        raise Invalid.field("disease", "disease_not_listed", "the policy does not list it")
    earlier = session.scalar(
        select(PersonPayment.reference).where(
            PersonPayment.psn_no == data.psn_no,
            PersonPayment.kind == PaymentKind.GRANT.value,
            PersonPayment.status != PersonPaymentStatus.REJECTED.value,
        )
    )
    if earlier is not None:
        raise Conflict(
            f"{data.psn_no} had the care grant already ({earlier})", code="care-grant-once"
        )
    amount = data.amount
    if amount is None:
        amount = care_grant_policy.care_grant_default(session, recipient.region_code, today)
    payment = person_payments.record(
        session,
        kind=PaymentKind.GRANT,
        reference=data.reference,
        psn_no=data.psn_no,
        region_code=recipient.region_code,
        amount_fen=amount,
        content=content,
        actor=actor,
        now=now,
        disease=data.disease,
    )
    return payment, True
