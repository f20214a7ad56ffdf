"""A rejected top-up takes its clearing result back (SPEC-ASSISTANCE A7 "> 0"): the result
is marked, leaves granted, and the person-year shows the difference again. Called by
`person_payments.reject` (a module of its own so that the payments need not import the
clearing service, which imports them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.assistance.clearing_models import AssistanceClearing


def take_back(session: Session, reference: str, now: datetime) -> None:
    """Mark the positive result of clearing `reference` taken back (once; none: nothing)."""
    session.execute(
        update(AssistanceClearing)
        .where(
            AssistanceClearing.reference == reference,
            AssistanceClearing.difference_fen > 0,
            AssistanceClearing.taken_back_at.is_(None),
        )
        .values(taken_back_at=now)
    )
