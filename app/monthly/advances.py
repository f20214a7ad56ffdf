"""Procurement advances (药耗招采垫付): paid to suppliers for an institution, recovered from
its monthly statement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Invalid
from app.institutions import service as institutions
from app.ledger import entries
from app.ledger import service as ledger
from app.monthly.models import ProcurementAdvance
from app.trail import service as trail


def register(
    session: Session,
    *,
    code: str,
    insutype: str,
    period: str,
    amount_fen: int,
    reference: str,
    actor: Principal,
    now: datetime,
) -> tuple[ProcurementAdvance, bool]:
    """Record an advance and its payment to suppliers (debit procurement_advance, credit
    bank); idempotent on the reference."""
    institution = institutions.get_institution(session, code)
    if institutions.find_fund_ledger(session, institution.region_code, insutype) is None:
        raise Invalid.field("insutype", "fund_ledger_exists", f"no fund ledger {insutype} here")
    existing = session.scalar(
        select(ProcurementAdvance).where(ProcurementAdvance.reference == reference)
    )
    if existing is not None:
        same = (
            existing.fixmedins_code,
            existing.insutype,
            existing.period,
            existing.amount_fen,
        ) == (
            code,
            insutype,
            period,
            amount_fen,
        )
        if not same:
            raise Conflict(f"advance {reference} was registered with other content")
        return existing, False
    region = institution.region_code
    advance = ProcurementAdvance(
        region_code=region,
        insutype=insutype,
        fixmedins_code=code,
        period=period,
        amount_fen=amount_fen,
        reference=reference,
        registered_at=now,
        registered_by=actor.name,
    )
    session.add(advance)
    session.flush()
    ledger.post(
        session,
        entries.procurement_advance(
            reference=reference,
            advance_id=advance.id,
            region_code=region,
            insutype=insutype,
            fixmedins_code=code,
            period=period,
            amount_fen=amount_fen,
            effective_at=now,
        ),
        now=now,
    )
    trail.record(
        session,
        actor=actor,
        action="procurement_advance.create",
        entity="institution",
        key=code,
        before=None,
        after={
            "insutype": insutype,
            "period": period,
            "amount_fen": amount_fen,
            "reference": reference,
        },
        now=now,
    )
    return advance, True


def list_advances(
    session: Session, *, code: str | None, period: str | None, limit: int
) -> list[ProcurementAdvance]:
    query = select(ProcurementAdvance).order_by(ProcurementAdvance.id).limit(limit)
    if code:
        query = query.where(ProcurementAdvance.fixmedins_code == code)
    if period:
        query = query.where(ProcurementAdvance.period == period)
    return list(session.scalars(query))
