"""Daily's answers about a period, for the monthly statement (SPEC §4): which daily payments
of a period's settlements are still in flight, what the daily batches paid, and the withdrawal
of the lines never sent. Daily owns its tables; monthly asks here and never reads them.

Every function takes the caller's selection of settlements as a SQL condition on `Settlement`
(`settlements`: e.g. one fund ledger's period, for the institutions in scope) and the
institutions as a selectable of codes (`codes`), so each is one set-based statement whatever
the number of institutions. Membership of a settlement in a batch is `membership.holds`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.orm import Session

from app.bank import rules as bank_rules
from app.bank.models import PaymentInstruction
from app.daily.membership import holds
from app.daily.models import DailyBatch, DailyLine
from app.settlements.models import Revocation, Settlement


def counted() -> Any:
    """Not revoked before batching (such a settlement is in no batch and counts in no period)."""
    return ~exists().where(Revocation.settlement_id == Settlement.id, Revocation.batched.is_(False))


def _holding(fund_id: int, codes: Any, settlements: Any) -> Any:
    """The fund ledger's lines (joined to their batch) of the institutions in `codes` whose
    batch holds one of the selected settlements of the line's institution."""
    return and_(
        DailyBatch.fund_ledger_id == fund_id,
        DailyLine.fixmedins_code.in_(codes),
        exists().where(settlements, Settlement.fixmedins_code == DailyLine.fixmedins_code, holds()),
    )


def in_flight(session: Session, *, fund_id: int, codes: Any, settlements: Any) -> set[str]:
    """Institutions with a daily payment of the selected settlements sent and still awaiting
    its final result."""
    query = (
        select(DailyLine.fixmedins_code)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .join(PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id)
        .where(
            _holding(fund_id, codes, settlements),
            PaymentInstruction.status.in_(sorted(bank_rules.AWAITING_RESULT)),
        )
        .distinct()
    )
    return set(session.scalars(query))


def withdraw_unsent(
    session: Session, *, fund_id: int, codes: Any, settlements: Any, now: datetime
) -> None:
    """Lines holding the selected settlements that were never sent are never sent afterwards
    (the statement pays their settlements, SPEC §4): one UPDATE."""
    unsent = (
        select(DailyLine.id)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .where(
            _holding(fund_id, codes, settlements),
            DailyLine.instruction_id.is_(None),
            DailyLine.withdrawn_at.is_(None),
        )
    )
    session.execute(
        update(DailyLine)
        .where(
            DailyLine.id.in_(unsent),
            DailyLine.instruction_id.is_(None),
            DailyLine.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )


def fund_and_paid(*, fund_id: int, settlements: Any, returned_paid: Any) -> Any:
    """Per institution: Σ fund amounts of the selected (counted) settlements and Σ of their
    daily amounts the daily batches paid — paid when the line's instruction succeeded, or was
    returned where `returned_paid` (a condition on `PaymentInstruction`) holds. One scan of
    the settlements: per institution and batch date, then the batch of each date once."""
    per_day = (
        select(
            Settlement.fixmedins_code.label("code"),
            Settlement.batch_date.label("day"),
            func.sum(Settlement.fund_amount_fen).label("fund"),
            func.sum(Settlement.daily_amount_fen).label("daily"),
        )
        .where(settlements, counted())
        .group_by(Settlement.fixmedins_code, Settlement.batch_date)
        .cte("per_day")
    )
    days = select(per_day.c.day).distinct().subquery()
    day_batch = (
        select(days.c.day, DailyBatch.id.label("batch_id"))
        .join(
            DailyBatch,
            and_(
                DailyBatch.fund_ledger_id == fund_id,
                days.c.day <= DailyBatch.business_date,
                (DailyBatch.first_batch_date.is_(None))
                | (days.c.day >= DailyBatch.first_batch_date),
            ),
        )
        .subquery()
    )
    # Each (institution, batch date) has at most one line and one instruction: outer joins
    # keep every row for the fund amount, and the daily amount counts where it was paid.
    paid = (PaymentInstruction.status == "SUCCESS") | (
        (PaymentInstruction.status == "RETURNED") & returned_paid
    )
    return (
        select(
            per_day.c.code,
            func.sum(per_day.c.fund),
            func.sum(case((paid, per_day.c.daily), else_=0)),
        )
        .outerjoin(day_batch, day_batch.c.day == per_day.c.day)
        .outerjoin(
            DailyLine,
            and_(
                DailyLine.batch_id == day_batch.c.batch_id,
                DailyLine.fixmedins_code == per_day.c.code,
            ),
        )
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id
        )
        .group_by(per_day.c.code)
    )
