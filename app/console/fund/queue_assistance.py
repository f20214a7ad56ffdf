"""The approval queue's sources of the medical-assistance fund (`610`): the hospitals'
assistance statements (救助结算单), confirmed or with a failed payment, and the payments to
persons (救助金支付) waiting for approval or re-approval. Registered in queue_sources.py
beside the basic documents.

Deadlines: an assistance statement is computed on the day its hospital's basic statement of
the period is (SPEC-ASSISTANCE A10), so a confirmed one is due as they are, on the 20th
working day after the period's computation date (the region's basic fund ledger's
declaration day; 15 without one); a failed payment on the 5th working day after the earliest
failed one's approval in the region."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, String, case, func, literal, select

from app.assistance.person_models import PersonPayment
from app.assistance.statement_models import AssistanceStatement
from app.clock import SHANGHAI, period_end, shanghai
from app.console.fund.queue_model import (
    DAY_END_MINUTE,
    Group,
    QueueContext,
    QueueFilter,
    Source,
    _row,
)
from app.monthly import deadlines

ASSISTANCE = "610"
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
        due = deadlines.payment_deadline(shanghai(_aware(first)).date(), ctx.book.calendar)
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


# --- payments to persons ----------------------------------------------------------------------

AUTO_APPROVAL_MINUTE = 9 * 60  # A10: auto-approved at 09:00 on the next working day
DAYS_MAX = 400  # payments recorded earlier than this share the first deadline
PERSON_STATUS = {
    "person_payment": ("PENDING_APPROVAL",),
    "person_payment_failed": ("FAILED", "RETURNED"),
}


def _person_narrow(source: Source, wanted: QueueFilter) -> list[Any] | None:
    p = PersonPayment
    if wanted.insutype and wanted.insutype != ASSISTANCE:
        return None
    found: list[Any] = [p.status.in_(PERSON_STATUS[source.kind])]
    if wanted.region_code:
        found.append(p.region_code == wanted.region_code)
    return found


def person_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Payments waiting for approval by the Shanghai day they were recorded: due at 09:00 on
    the next working day, when the auto-approval would take them (one MIN/MAX read, then one
    aggregate bucketed by day)."""
    p = PersonPayment
    narrow = _person_narrow(source, wanted)
    if narrow is None:
        return []
    first, last = ctx.session.execute(
        select(func.min(p.recorded_at), func.max(p.recorded_at)).where(*narrow)
    ).one()
    if first is None or last is None:
        return []
    last_day = shanghai(_aware(last)).date()
    day = max(shanghai(_aware(first)).date(), last_day - timedelta(days=DAYS_MAX))
    ends = []  # (day, the UTC start of the next day)
    while day <= last_day:
        next_start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        ends.append((day, next_start.astimezone(UTC)))
        day += timedelta(days=1)
    bucket = case(
        *[(p.recorded_at < end, number) for number, (_, end) in enumerate(ends)],
        else_=len(ends) - 1,
    )
    rows = ctx.session.execute(
        select(bucket, func.count(), func.sum(p.amount_fen)).where(*narrow).group_by(bucket)
    ).all()
    groups = []
    for number, count, amount in rows:
        day, end = ends[number]
        where: tuple[Any, ...] = (p.recorded_at < end,)
        if number > 0:
            where += (p.recorded_at >= ends[number - 1][1],)
        due = ctx.book.calendar.nth_after(day, 1)
        groups.append(Group(source, where, due, AUTO_APPROVAL_MINUTE, int(count), int(amount)))
    return groups


def person_failed_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Failed or returned payments to persons by region: due on the 5th working day after
    the earliest one's approval."""
    p = PersonPayment
    narrow = _person_narrow(source, wanted)
    if narrow is None:
        return []
    rows = ctx.session.execute(
        select(p.region_code, func.min(p.approved_at), func.count(), func.sum(p.paid_fen))
        .where(*narrow)
        .group_by(p.region_code)
    ).all()
    groups = []
    for region, first, count, amount in rows:
        assert first is not None, "a failed payment was approved"
        due = deadlines.payment_deadline(shanghai(_aware(first)).date(), ctx.book.calendar)
        where = (p.region_code == region,)
        groups.append(Group(source, where, due, DAY_END_MINUTE, int(count), int(amount)))
    return groups


def person_rows(ctx: QueueContext, source: Source, group: Group) -> Select[Any]:
    p = PersonPayment
    return select(
        *_row(
            source.kind,
            source.rank,
            doc_id=p.id,
            region_code=p.region_code,
            insutype=literal(ASSISTANCE, String),
            fixmedins_code=p.psn_no,  # the payee: a person (the page shows it as such)
            amount_fen=p.amount_fen,
            maker=p.recorded_by,
            status=p.status,
            due_date=group.due_date,
            due_minute=group.due_minute,
        )
    ).where(p.status.in_(PERSON_STATUS[source.kind]), *group.where)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
