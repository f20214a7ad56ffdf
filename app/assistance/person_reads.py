"""Reading the payments to persons: the API's list and the scenario result's rows
(SCENARIOS.md `person_payments`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance.person_models import PersonPayment
from app.money import yuan


def listing(
    session: Session,
    *,
    psn_no: str | None,
    kind: str | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> list[PersonPayment]:
    query = select(PersonPayment).order_by(PersonPayment.id).limit(limit)
    for column, value in (
        (PersonPayment.psn_no, psn_no),
        (PersonPayment.kind, kind),
        (PersonPayment.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if after_id is not None:
        query = query.where(PersonPayment.id > after_id)
    return list(session.scalars(query))


def scenario_rows_person_payments(session: Session) -> list[dict[str, Any]]:
    """SCENARIOS.md `person_payments`, sorted by reference."""
    rows: Sequence[PersonPayment] = session.scalars(
        select(PersonPayment).order_by(PersonPayment.reference)
    ).all()
    return [
        {
            "reference": row.reference,
            "psn_no": row.psn_no,
            "kind": row.kind,
            "amount": yuan(row.amount_fen),
            "deducted": yuan(row.deducted_fen),
            "paid": yuan(row.paid_fen),
            "status": row.status,
        }
        for row in rows
    ]
