"""The approval queue's sources of the medical-assistance fund (`610`): the hospitals'
assistance statements (救助结算单), confirmed or with a failed payment. Registered in
queue_sources.py beside the basic documents.

Deadlines: an assistance statement is computed on the day its hospital's basic statement of
the period is (SPEC-ASSISTANCE A10), so a confirmed one is due as they are, on the 20th
working day after the period's computation date (the region's basic fund ledger's
declaration day; 15 without one); a failed payment on the 5th working day after the earliest
failed one's approval in the region."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import Select, func, select

from app.assistance.statement_models import AssistanceStatement
from app.clock import period_end, shanghai
from app.console.fund.queue_model import (
    DAY_END_MINUTE,
    Group,
    QueueContext,
    QueueFilter,
    Source,
    _row,
)
from app.monthly import deadlines

DECLARATION_DAY_DEFAULT = 15
BASIC = ("310", "390")


def _narrow(wanted: QueueFilter) -> list[Any]:
    s = AssistanceStatement
    found = []
    if wanted.region_code:
        found.append(s.region_code == wanted.region_code)
    if wanted.insutype:
        found.append(s.insutype == wanted.insutype)
    return found


def _declaration_day(ctx: QueueContext, region_code: str, period: str) -> int:
    for insutype in BASIC:
        fund = ctx.book.find(region_code, insutype)
        policy = ctx.book.policy(fund.id, period_end(period)) if fund else None
        if policy is not None:
            return int(policy.declaration_day)
    return DECLARATION_DAY_DEFAULT


def confirmed_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Confirmed assistance statements by region and period."""
    s = AssistanceStatement
    rows = ctx.session.execute(
        select(s.region_code, s.period, func.count(), func.sum(s.amount_fen))
        .where(s.status == "CONFIRMED", *_narrow(wanted))
        .group_by(s.region_code, s.period)
    ).all()
    groups = []
    for region, period, count, amount in rows:
        day_of_month = _declaration_day(ctx, region, period)
        day = deadlines.settlement_deadline(period, day_of_month, ctx.book.calendar)
        where = (s.region_code == region, s.period == period)
        groups.append(Group(source, where, day, DAY_END_MINUTE, int(count), int(amount)))
    return groups


def failed_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Assistance statements whose payment failed, by region: due on the 5th working day
    after the earliest one's approval."""
    s = AssistanceStatement
    rows = ctx.session.execute(
        select(s.region_code, func.min(s.approved_at), func.count(), func.sum(s.amount_fen))
        .where(s.status == "FAILED", *_narrow(wanted))
        .group_by(s.region_code)
    ).all()
    groups = []
    for region, first, count, amount in rows:
        assert first is not None, "a failed statement was approved"
        aware = first if first.tzinfo else first.replace(tzinfo=UTC)
        due = deadlines.payment_deadline(shanghai(aware).date(), ctx.book.calendar)
        where = (s.region_code == region,)
        groups.append(Group(source, where, due, DAY_END_MINUTE, int(count), int(amount)))
    return groups


STATUS = {"assistance_statement": "CONFIRMED", "assistance_statement_failed": "FAILED"}


def rows(ctx: QueueContext, source: Source, group: Group) -> Select[Any]:
    s = AssistanceStatement
    return select(
        *_row(
            source.kind,
            source.rank,
            doc_id=s.id,
            region_code=s.region_code,
            insutype=s.insutype,
            period=s.period,
            fixmedins_code=s.fixmedins_code,
            amount_fen=s.amount_fen,
            maker=s.computed_by,
            status=s.status,
            due_date=group.due_date,
            due_minute=group.due_minute,
        )
    ).where(s.status == STATUS[source.kind], *group.where)
