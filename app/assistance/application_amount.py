"""The seam of an application's amount (SPEC-ASSISTANCE A6): per year of its invoices, due of
the person-year with them minus due without them, never below 0 (`rules.marginal`).

For now it computes over the application's invoices alone, under the policy versions of
`policy_source` and the person's held categories, with NO earlier items and no deductions: the
person-year over stored settlements, applications and deductions is another piece's
(`person_year(...)`); the integrator completes this function with it (the earlier items and
the deductions known now go into `existing` and `deductions`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.assistance import policy_source, recipients, rules
from app.assistance.policy import Item


def amount_of_application(
    session: Session, psn_no: str, invoices: Sequence[Item], now: datetime
) -> dict[int, int]:
    """Year → fen of an application's invoices (items keyed `I:<invoice_no>`)."""
    recipient = recipients.get(session, psn_no)
    return rules.marginal(
        [],
        invoices,
        holdings=recipients.holdings(session, recipient.id),
        policies=policy_source.policies(session, recipient.region_code),
    )
