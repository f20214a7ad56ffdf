"""Settlement intake: uploads (single and bulk), revocations, settlement lists,
reconciliation and the period rule. Set-based: one query per kind of lookup, multi-row
inserts, never a round trip per settlement.

The uploads are in uploads.py, the reconciliation in reconciliation.py, the contexts and the
period and batch locks in context.py; they are re-exported here for this module's callers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, column, select, table
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import business_date
from app.errors import Conflict, NotFound
from app.institutions import service as institutions
from app.settlements import rules
from app.settlements import status as settlement_status
from app.settlements.context import lock_batch_states, lock_period_states
from app.settlements.models import Revocation, Settlement, SettlementKey, SettlementList
from app.settlements.reconciliation import day_statuses as day_statuses
from app.settlements.reconciliation import held_totals as held_totals
from app.settlements.reconciliation import reconcile as reconcile
from app.settlements.reconciliation import unreconciled_days as unreconciled_days
from app.settlements.rules import SettlementStatus
from app.settlements.uploads import upload_bulk as upload_bulk
from app.settlements.uploads import upload_one as upload_one

# --- revocations and settlement lists --------------------------------------------------------


def get_settlement(session: Session, code: str, setl_id: str, *, actor: Principal) -> Settlement:
    if actor.is_hospital and actor.fixmedins_code != code:
        raise NotFound(f"no settlement {setl_id} of {code}")
    # through its key: the key's period names the settlement's partition (migration 0032)
    settlement = session.scalar(
        select(Settlement)
        .join(
            SettlementKey,
            (SettlementKey.id == Settlement.id) & (SettlementKey.period == Settlement.period),
        )
        .where(SettlementKey.fixmedins_code == code, SettlementKey.setl_id == setl_id)
    )
    if settlement is None:
        raise NotFound(f"no settlement {setl_id} of {code}")
    return settlement


def revoke(
    session: Session, code: str, setl_id: str, reason: str, *, actor: Principal, now: datetime
) -> tuple[Revocation, bool]:
    """Revoke once (national 2305); repeating returns the first revocation."""
    settlement = get_settlement(session, code, setl_id, actor=actor)
    fund = institutions.get_fund_ledger(session, settlement.region_code, settlement.insutype)
    last_generated = lock_batch_states(session, [fund.id])[fund.id]
    states = lock_period_states(session, [(code, settlement.insutype)])
    # The settlement's row last: two revocations, or a revocation and an audit result, of
    # one settlement are applied one after the other.
    session.execute(
        select(Settlement.id)
        .where(Settlement.id == settlement.id, Settlement.period == settlement.period)
        .with_for_update(key_share=True)
    )
    existing = session.scalar(select(Revocation).where(Revocation.settlement_id == settlement.id))
    if existing is not None:
        return existing, False
    if _has_audit_results(session, settlement.id):
        raise Conflict(
            f"settlement {setl_id} has audit results: correct it through the audit process"
        )
    revocation = Revocation(
        settlement_id=settlement.id,
        fixmedins_code=code,
        insutype=settlement.insutype,
        reason=reason,
        revoked_at=now,
        revoked_date=business_date(now),
        period=rules.revocation_period(settlement.period, states[(code, settlement.insutype)]),
        revoked_by=actor.name,
        batched=last_generated is not None and settlement.batch_date <= last_generated,
    )
    session.add(revocation)
    session.flush()
    return revocation, True


# Monthly's audit items refer to settlements (monthly imports settlements, not the other way):
# read by table name; tests/unit/test_imports.py keeps the import graph acyclic.
AUDIT_ITEM = table("audit_item", column("id", BigInteger), column("settlement_id", BigInteger))


def _has_audit_results(session: Session, settlement_id: int) -> bool:
    return (
        session.scalar(
            select(AUDIT_ITEM.c.id).where(AUDIT_ITEM.c.settlement_id == settlement_id).limit(1)
        )
        is not None
    )


def record_list(
    session: Session, code: str, setl_id: str, list_no: str, *, actor: Principal, now: datetime
) -> tuple[SettlementList, bool]:
    """Record the settlement list (4101A) of a settlement; idempotent, first number wins."""
    settlement = get_settlement(session, code, setl_id, actor=actor)
    existing = session.get(SettlementList, settlement.id)
    if existing is not None:
        if existing.list_no != list_no:
            raise Conflict(f"settlement {setl_id} already has settlement list {existing.list_no}")
        return existing, False
    row = SettlementList(
        settlement_id=settlement.id, list_no=list_no, recorded_at=now, recorded_by=actor.name
    )
    session.add(row)
    session.flush()
    return row, True


# --- listing ---------------------------------------------------------------------------------


def list_settlements(
    session: Session,
    *,
    fixmedins_code: str | None,
    insutype: str | None,
    setl_date: date | None,
    period: str | None,
    status: SettlementStatus | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[Settlement, Revocation | None, str | None]]:
    query = (
        select(Settlement, Revocation, SettlementList.list_no)
        .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
        .outerjoin(SettlementList, SettlementList.settlement_id == Settlement.id)
        .order_by(Settlement.id)
        .limit(limit)
    )
    filters = [
        (fixmedins_code, Settlement.fixmedins_code),
        (insutype, Settlement.insutype),
        (setl_date, Settlement.setl_date),
        (period, Settlement.period),
    ]
    for value, field in filters:
        if value is not None:
            query = query.where(field == value)
    if after_id is not None:
        query = query.where(Settlement.id > after_id)
    query = _status_filter(query, status)
    return [(s, r, n) for s, r, n in session.execute(query).all()]


def _status_filter(query: Any, status: SettlementStatus | None) -> Any:
    if status is None:
        return query
    return query.where(settlement_status.condition(status))


def statuses_of(session: Session, settlement_ids: Sequence[int]) -> dict[int, SettlementStatus]:
    return settlement_status.of(session, settlement_ids)
