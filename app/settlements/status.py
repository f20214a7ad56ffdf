"""A settlement's status: accepted, batched, paid or revoked (API.md GET /settlements).

- revoked: a revocation exists (it wins over everything else);
- paid: the daily line that holds it was paid (its instruction's bank result is SUCCESS);
- batched: a daily batch holds it (its batch date lies in the batch's range, daily.members);
  a line held back, withdrawn, failed or returned leaves it batched (the monthly statement
  pays it);
- accepted: none of these yet.

The daily batches of a fund ledger cover consecutive ranges of batch dates (each from the day
after the previous one's business date), so a settlement is batched as soon as any batch of
its fund ledger has a business date on or after its batch date. Every condition is a
correlated EXISTS on aliases, so it composes with a query that already joins these tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, exists, select
from sqlalchemy.orm import Session, aliased

from app.bank.models import PaymentInstruction
from app.daily import membership
from app.daily.models import DailyBatch, DailyLine
from app.settlements.models import Revocation, Settlement
from app.settlements.rules import SettlementStatus
from app.states import values

STATUSES = values(SettlementStatus)


def _revoked() -> Any:
    revocation = aliased(Revocation)
    return exists().where(revocation.settlement_id == Settlement.id)


def _batched() -> Any:
    batch = aliased(DailyBatch)
    return exists().where(
        batch.region_code == Settlement.region_code,
        batch.insutype == Settlement.insutype,
        batch.business_date >= Settlement.batch_date,
    )


def _paid() -> Any:
    batch = aliased(DailyBatch)
    line = aliased(DailyLine)
    instruction = aliased(PaymentInstruction)
    return exists().where(
        membership.holds(batch),
        line.batch_id == batch.id,
        line.fixmedins_code == Settlement.fixmedins_code,
        instruction.instruction_id == line.instruction_id,
        instruction.status == "SUCCESS",
    )


def condition(status: str) -> Any:
    """A WHERE condition on Settlement for one status (the statuses exclude each other)."""
    if status == SettlementStatus.REVOKED:
        return _revoked()
    if status == SettlementStatus.PAID:
        return and_(~_revoked(), _paid())
    if status == SettlementStatus.BATCHED:
        return and_(~_revoked(), ~_paid(), _batched())
    if status == SettlementStatus.ACCEPTED:
        return and_(~_revoked(), ~_batched())
    raise ValueError(f"unknown settlement status {status!r}")


def of(session: Session, settlement_ids: Sequence[int]) -> dict[int, SettlementStatus]:
    """The status of each settlement, in one query."""
    if not settlement_ids:
        return {}
    # plain strings in SQL (a Python enum would bind as its name)
    status = case(
        (_revoked(), SettlementStatus.REVOKED.value),
        (_paid(), SettlementStatus.PAID.value),
        (_batched(), SettlementStatus.BATCHED.value),
        else_=SettlementStatus.ACCEPTED.value,
    )
    rows = session.execute(
        select(Settlement.id, status).where(Settlement.id.in_(list(settlement_ids)))
    )
    return {row[0]: SettlementStatus(row[1]) for row in rows}
