"""An application's amount (SPEC-ASSISTANCE A6): for each year of its invoices, due of the
person-year with them minus due without them, never below 0 (`rules.marginal`), fixed when it
is recorded. The person-year is read as `person_year` reads it: the person's settlement items
(on or after the region's 610 switch-on), the invoices of their live applications, their
deductions of the year (those that count), their categories, and the stored policy in force
on each item's day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.assistance import application_items, deductions, items, recipients, rules
from app.assistance.deduction_models import DeductionRecord
from app.assistance.person_year import counted, versions_for
from app.assistance.policy import Item
from app.assistance.policy_source import policy_for_region
from app.assistance.rules import Deduction, DeductionKind


def _rule_deduction(record: DeductionRecord) -> Deduction:
    kind = DeductionKind(record.type)
    if kind is DeductionKind.BURDEN_RELIEF:
        return Deduction(kind, record.amount_fen, year=record.year)
    return Deduction(kind, record.amount_fen, item_key=record.item_key)


def amount_of_application(
    session: Session, psn_no: str, invoices: Sequence[Item], now: datetime
) -> dict[int, int]:
    """Year → fen of an application's invoices (items keyed `I:<invoice_no>`)."""
    del now  # everything stored now is what is known now
    recipient = recipients.get(session, psn_no)
    holdings = recipients.holdings(session, recipient.id)
    policy_for = policy_for_region(session, recipient.region_code)
    since = items.switched_on(session, recipient.region_code)
    live_invoices = application_items.invoice_items(session, psn_no)
    amounts: dict[int, int] = {}
    for year in sorted({invoice.year for invoice in invoices}):
        added = [invoice for invoice in invoices if invoice.year == year]
        existing = [
            *(entry.item for entry in items.settlement_items(session, psn_no, year, since=since)),
            *(item for item in live_invoices if item.year == year),
        ]
        keys = {item.key for item in [*existing, *added]}
        records = counted(deductions.of_person_year(session, psn_no, year), keys)
        amounts.update(
            rules.marginal(
                existing,
                added,
                holdings=holdings,
                policies=versions_for((item.day for item in [*existing, *added]), policy_for),
                deductions=[_rule_deduction(record) for record, counts in records if counts],
            )
        )
    return amounts
