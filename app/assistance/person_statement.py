"""The person's assistance statement of a year (issue 22 item 6): who the person is and the
categories held in the year; the year's items with what was paid on them and how the
assistance was computed (A4, A7); due, granted and difference; the year's clearings; the
payments to the person; the open receivable. Amounts in fen; the router and the XLSX format
them. Reads only.

Payments of the year: applications with a part in the year (that part shown beside the
whole), top-ups and care grants recorded in the year (Shanghai date).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import claims, policy_source, recipients
from app.assistance.clearing_models import AssistanceClearing
from app.assistance.items import invoice_key, settlement_key
from app.assistance.models import Recipient
from app.assistance.person_models import ApplicationInvoice, PersonPayment, PersonPaymentYear
from app.assistance.person_status import PaymentKind
from app.assistance.person_year import PersonYear, person_year
from app.assistance.policy import Holding
from app.clock import shanghai
from app.institutions import service as institutions
from app.settlements.models import Settlement

PAYER_FIELDS = ("hifp", "hifob", "hifmi", "cvlserv", "hifes", "oth", "maf")


def clearings_of(session: Session, psn_no: str, year: int) -> list[dict[str, Any]]:
    """The person-year's clearing results, oldest first, each {reference, kind ('realtime'|
    'annual'), made_at, difference_fen, resolution, status ('有效', or '已撤回' when its
    top-up was rejected and the result taken back)}."""
    rows = session.scalars(
        select(AssistanceClearing)
        .where(AssistanceClearing.psn_no == psn_no, AssistanceClearing.year == year)
        .order_by(AssistanceClearing.made_at, AssistanceClearing.reference)
    )
    return [
        {
            "reference": row.reference,
            "kind": row.mode,
            "made_at": row.made_at,
            "difference_fen": row.difference_fen,
            "resolution": row.resolution,
            "status": "已撤回" if row.taken_back_at is not None else "有效",
        }
        for row in rows
    ]


@dataclass(frozen=True)
class StatementItem:
    key: str
    day: date
    source: str  # 'settlement' | 'invoice'
    fixmedins_code: str | None
    hospital: str | None
    setl_id: str | None
    invoice_no: str | None
    application: str | None  # the application's reference (an invoice)
    visit: str
    medfee_fen: int
    inscp_fen: int
    payers_fen: dict[str, int]  # PAYER_FIELDS
    acct_pay_fen: int | None
    cash_fen: int | None
    gross_base_fen: int
    deducted_fen: int
    relief_fen: int
    base_fen: int
    category: str | None
    amount_fen: int


@dataclass(frozen=True)
class StatementPayment:
    reference: str
    kind: str
    recorded_on: date
    amount_fen: int
    year_part_fen: int | None  # an application's part of this year
    deducted_fen: int
    paid_fen: int
    status: str


@dataclass(frozen=True)
class PersonStatement:
    recipient: Recipient
    region_name: str
    year: int
    holdings: list[Holding]
    found: PersonYear
    items: list[StatementItem]
    clearings: list[dict[str, Any]]
    payments: list[StatementPayment]
    receivable_fen: int
    notes: list[str] = field(default_factory=list)


def _held_in(holdings: list[Holding], year: int) -> list[Holding]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [
        h for h in holdings if h.valid_from <= last and (h.valid_to is None or h.valid_to >= first)
    ]


def _settlements(session: Session, psn_no: str, year: int) -> dict[str, Settlement]:
    rows = session.scalars(
        select(Settlement).where(
            Settlement.psn_no == psn_no,
            Settlement.setl_date >= date(year, 1, 1),
            Settlement.setl_date <= date(year, 12, 31),
        )
    )
    return {settlement_key(row.fixmedins_code, row.setl_id): row for row in rows}


def _invoices(session: Session, psn_no: str) -> dict[str, tuple[ApplicationInvoice, str]]:
    rows = session.execute(
        select(ApplicationInvoice, PersonPayment.reference)
        .join(PersonPayment, PersonPayment.id == ApplicationInvoice.payment_id)
        .where(PersonPayment.psn_no == psn_no, ApplicationInvoice.active_invoice_no.is_not(None))
    ).all()
    return {invoice_key(invoice.invoice_no): (invoice, reference) for invoice, reference in rows}


def _payers(row: Settlement | ApplicationInvoice) -> dict[str, int]:
    values = {name: getattr(row, f"{name}_pay_fen", 0) or 0 for name in PAYER_FIELDS}
    return values


def _items(session: Session, found: PersonYear) -> list[StatementItem]:
    settlements = _settlements(session, found.psn_no, found.year)
    invoices = _invoices(session, found.psn_no)
    names = institutions.institution_names(
        session, sorted({row.fixmedins_code for row in settlements.values()})
    )
    out: list[StatementItem] = []
    for item in found.result.items:
        day = found.stored[item.key].item.day
        common: dict[str, Any] = {
            "key": item.key,
            "day": day,
            "visit": item.visit.value,
            "gross_base_fen": item.gross_base_fen,
            "deducted_fen": item.deducted_fen,
            "relief_fen": item.relief_fen,
            "base_fen": item.base_fen,
            "category": None if item.category is None else item.category.value,
            "amount_fen": item.amount_fen,
        }
        if item.key in settlements:
            row = settlements[item.key]
            out.append(
                StatementItem(
                    **common,
                    source="settlement",
                    fixmedins_code=row.fixmedins_code,
                    hospital=names.get(row.fixmedins_code, ""),
                    setl_id=row.setl_id,
                    invoice_no=None,
                    application=None,
                    medfee_fen=row.medfee_sumamt_fen,
                    inscp_fen=row.inscp_scp_amt_fen,
                    payers_fen=_payers(row),
                    acct_pay_fen=row.acct_pay_fen,
                    cash_fen=row.psn_cash_pay_fen,
                )
            )
            continue
        invoice, reference = invoices[item.key]
        out.append(
            StatementItem(
                **common,
                source="invoice",
                fixmedins_code=None,
                hospital=None,
                setl_id=None,
                invoice_no=invoice.invoice_no,
                application=reference,
                medfee_fen=invoice.medfee_sumamt_fen,
                inscp_fen=invoice.inscp_scp_amt_fen,
                payers_fen=_payers(invoice),
                acct_pay_fen=None,
                cash_fen=None,
            )
        )
    return out


def _payments(session: Session, psn_no: str, year: int) -> list[StatementPayment]:
    parts = dict(
        session.execute(
            select(PersonPaymentYear.payment_id, PersonPaymentYear.amount_fen)
            .join(PersonPayment, PersonPayment.id == PersonPaymentYear.payment_id)
            .where(PersonPayment.psn_no == psn_no, PersonPaymentYear.year == year)
        ).all()
    )
    rows = session.scalars(
        select(PersonPayment).where(PersonPayment.psn_no == psn_no).order_by(PersonPayment.id)
    )
    out: list[StatementPayment] = []
    for row in rows:
        recorded_on = shanghai(row.recorded_at).date()
        if row.kind == PaymentKind.APPLICATION.value:
            if row.id not in parts:
                continue
        elif recorded_on.year != year:
            continue
        out.append(
            StatementPayment(
                reference=row.reference,
                kind=row.kind,
                recorded_on=recorded_on,
                amount_fen=row.amount_fen,
                year_part_fen=parts.get(row.id),
                deducted_fen=row.deducted_fen,
                paid_fen=row.paid_fen,
                status=row.status,
            )
        )
    return out


def statement(session: Session, psn_no: str, year: int) -> PersonStatement:
    """The statement of one person-year; a person not in the register is 404."""
    recipient = recipients.get(session, psn_no)
    policy_for = policy_source.policy_for_region(session, recipient.region_code)
    found = person_year(session, psn_no, year, policy_for)
    owed = claims.receivables(session, psn_no=psn_no)
    return PersonStatement(
        recipient=recipient,
        region_name=institutions.region_names(session).get(recipient.region_code, ""),
        year=year,
        holdings=_held_in(recipients.holdings(session, recipient.id), year),
        found=found,
        items=_items(session, found),
        clearings=clearings_of(session, psn_no, year),
        payments=_payments(session, psn_no, year),
        receivable_fen=sum(int(row["balance_fen"]) for row in owed),
    )
