"""Appropriations into a fund ledger's expenditure account (SPEC §6: bank / appropriation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict
from app.institutions import service as institutions
from app.ledger import entries
from app.ledger import service as ledger
from app.trail import service as trail
from app.treasury.models import Appropriation


def appropriate(
    session: Session,
    *,
    region_code: str,
    insutype: str,
    amount_fen: int,
    reference: str,
    actor: Principal,
    now: datetime,
) -> tuple[Appropriation, bool]:
    """Record money put into the expenditure account; idempotent on its reference."""
    institutions.get_fund_ledger(session, region_code, insutype)
    existing = session.scalar(
        select(Appropriation).where(
            Appropriation.region_code == region_code,
            Appropriation.insutype == insutype,
            Appropriation.reference == reference,
        )
    )
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise Conflict(f"appropriation {reference} was recorded with another amount")
        return existing, False
    posted = ledger.post(
        session,
        entries.appropriation(
            reference=reference,
            region_code=region_code,
            insutype=insutype,
            amount_fen=amount_fen,
            effective_at=now,
        ),
        now=now,
    )
    row = Appropriation(
        region_code=region_code,
        insutype=insutype,
        amount_fen=amount_fen,
        reference=reference,
        recorded_at=now,
        recorded_by=actor.name,
        entry_id=posted.entry_id,
    )
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="appropriation.create",
        entity="fund_ledger",
        key=f"{region_code}:{insutype}",
        before=None,
        after={"amount_fen": amount_fen, "reference": reference},
        now=now,
    )
    return row, True


def list_appropriations(session: Session, region_code: str, insutype: str) -> list[Appropriation]:
    return list(
        session.scalars(
            select(Appropriation)
            .where(Appropriation.region_code == region_code, Appropriation.insutype == insutype)
            .order_by(Appropriation.id)
        )
    )
