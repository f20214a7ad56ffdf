"""Which person-years the clearing looks at (SPEC-ASSISTANCE A7, A10), read set-based: one
query per table, never per person or per item. A person-year is a candidate when it has an
item (an unrevoked settlement of a registered person dated on or after the region's `610`
switch-on, or an invoice of a live application) or something granted or deducted (an
application's part of the year, a deduction record, a clearing result not taken back)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.assistance import items
from app.assistance.clearing_models import AssistanceClearing
from app.assistance.deduction_models import DeductionRecord
from app.assistance.models import Recipient
from app.assistance.person_models import ApplicationInvoice, PersonPayment, PersonPaymentYear
from app.assistance.person_status import PaymentKind, PersonPaymentStatus
from app.settlements.models import Revocation, Settlement

PersonYears = dict[str, set[int]]  # psn_no → years


def _in_region(query: Select, psn_column: object, region_code: str | None) -> Select:
    query = query.join(Recipient, Recipient.psn_no == psn_column)
    if region_code is not None:
        query = query.where(Recipient.region_code == region_code)
    return query


def _switch_ons(session: Session, regions: set[str]) -> dict[str, date | None]:
    return {region: items.switched_on(session, region) for region in sorted(regions)}


def with_items(session: Session, region_code: str | None, year: int | None = None) -> PersonYears:
    """The registered persons' years with at least one item (settlement or live invoice)."""
    found: PersonYears = defaultdict(set)
    revoked = select(Revocation.id).where(Revocation.settlement_id == Settlement.id).exists()
    settlements = _in_region(
        select(Settlement.psn_no, Recipient.region_code, Settlement.setl_date).distinct(),
        Settlement.psn_no,
        region_code,
    ).where(~revoked)
    invoices = _in_region(
        select(PersonPayment.psn_no, ApplicationInvoice.invoice_date)
        .distinct()
        .join(PersonPayment, PersonPayment.id == ApplicationInvoice.payment_id),
        PersonPayment.psn_no,
        region_code,
    ).where(ApplicationInvoice.active_invoice_no.is_not(None))
    if year is not None:
        first, last = date(year, 1, 1), date(year, 12, 31)
        settlements = settlements.where(Settlement.setl_date.between(first, last))
        invoices = invoices.where(ApplicationInvoice.invoice_date.between(first, last))
    rows = session.execute(settlements).all()
    since = _switch_ons(session, {region for _, region, _ in rows})
    for psn_no, region, day in rows:
        start = since[region]
        if start is not None and day >= start:
            found[psn_no].add(day.year)
    for psn_no, day in session.execute(invoices).all():
        found[psn_no].add(day.year)
    return dict(found)


def with_anything(session: Session, region_code: str | None) -> PersonYears:
    """`with_items` and the years with an application's part, a deduction record or a
    clearing result not taken back."""
    found: PersonYears = defaultdict(set)
    for psn_no, years in with_items(session, region_code).items():
        found[psn_no] |= years
    queries = [
        _in_region(
            select(PersonPayment.psn_no, PersonPaymentYear.year)
            .distinct()
            .join(PersonPayment, PersonPayment.id == PersonPaymentYear.payment_id),
            PersonPayment.psn_no,
            region_code,
        ).where(
            PersonPayment.kind == PaymentKind.APPLICATION.value,
            PersonPayment.status != PersonPaymentStatus.REJECTED.value,
        ),
        _in_region(
            select(DeductionRecord.psn_no, DeductionRecord.year).distinct(),
            DeductionRecord.psn_no,
            region_code,
        ),
        _in_region(
            select(AssistanceClearing.psn_no, AssistanceClearing.year).distinct(),
            AssistanceClearing.psn_no,
            region_code,
        ).where(AssistanceClearing.taken_back_at.is_(None)),
    ]
    for query in queries:
        for psn_no, year in session.execute(query).all():
            found[psn_no].add(year)
    return dict(found)
