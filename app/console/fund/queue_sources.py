"""The approval queue's sources and their registry (moved out of app/console/fund/queue.py as
they were; the design and the deadlines are described there). A new payable document plugs in
by adding a `Document` and a `Source` to the lists at the end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select

from app.annual.models import AnnualClearing, AnnualRule
from app.assistance.person_models import PersonPayment
from app.assistance.statement_models import AssistanceStatement
from app.clock import SHANGHAI, period_end, shanghai
from app.console.fund import actions, assistance_queries, queries, queue_assistance
from app.console.fund.queue_model import (
    DAY_END_MINUTE,
    FAILED_DAYS_MAX,
    FAR,
    Document,
    Group,
    QueueContext,
    QueueFilter,
    Source,
    _row,
)
from app.daily.models import DailyApproval, DailyBatch, DailyLine
from app.monthly import deadlines
from app.monthly.models import MonthlyStatement

# --- the sources ------------------------------------------------------------------------------


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _narrow(model: Any, wanted: QueueFilter) -> list[Any]:
    found = []
    if wanted.region_code:
        found.append(model.region_code == wanted.region_code)
    if wanted.insutype:
        found.append(model.insutype == wanted.insutype)
    return found


def _set_aside() -> Any:
    """A batch's lines set aside: held back, or withdrawn by a monthly computation (never
    sent). Few; a partial index holds them."""
    return and_(
        DailyLine.batch_id == DailyBatch.id,
        or_(DailyLine.held.is_(True), DailyLine.withdrawn_at.is_not(None)),
    )


def _daily_amount() -> Any:
    """What a batch still pays: its total less its lines set aside."""
    aside = select(func.coalesce(func.sum(DailyLine.amount_fen), 0)).where(_set_aside())
    return DailyBatch.amount_fen - aside.scalar_subquery()


def _daily_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Pushed batches by fund ledger and pay date: due on the pay date at the fund ledger's
    submission time (its policy on that day)."""
    b = DailyBatch
    rows = ctx.session.execute(
        select(b.fund_ledger_id, b.pay_date, func.count(), func.sum(_daily_amount()))
        .where(b.status == "PUSHED", *_narrow(b, wanted))
        .group_by(b.fund_ledger_id, b.pay_date)
    ).all()
    return [
        Group(
            source,
            (b.fund_ledger_id == fund_id, b.pay_date == day),
            day,
            _minute(ctx.book.submission_times(fund_id, day)[0]),
            int(count),
            int(amount or 0),
        )
        for fund_id, day, count, amount in rows
    ]


def _daily_rows(ctx: QueueContext, source: Source, group: Group) -> Select[Any]:
    b = DailyBatch
    aside = select(func.count()).select_from(DailyLine).where(_set_aside())
    approvals = (
        select(func.count())
        .select_from(DailyApproval)
        .where(DailyApproval.batch_id == b.id, DailyApproval.push_round == b.push_round)
    )
    return select(
        *_row(
            source.kind,
            source.rank,
            doc_id=b.id,
            region_code=b.region_code,
            insutype=b.insutype,
            business_date=b.business_date,
            amount_fen=_daily_amount(),
            hospitals=b.line_count - aside.scalar_subquery(),
            maker=b.pushed_by,
            status=b.status,
            approvals=approvals.scalar_subquery(),
            approvals_required=b.approvals_required,
            due_date=group.due_date,
            due_minute=group.due_minute,
        )
    ).where(b.status == "PUSHED", *group.where)


def _settlement_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Confirmed statements by fund ledger and period: due on the 20th working day after
    the period's computation date (the fund ledger's declaration day on the period's end)."""
    s = MonthlyStatement
    rows = ctx.session.execute(
        select(s.region_code, s.insutype, s.period, func.count(), func.sum(s.net_fen))
        .where(s.status == "CONFIRMED", *_narrow(s, wanted))
        .group_by(s.region_code, s.insutype, s.period)
    ).all()
    groups = []
    for region, insutype, period, count, amount in rows:
        fund = ctx.book.find(region, insutype)
        policy = ctx.book.policy(fund.id, period_end(period)) if fund else None
        day = deadlines.settlement_deadline(
            period, policy.declaration_day if policy else 15, ctx.book.calendar
        )
        where = (s.region_code == region, s.insutype == insutype, s.period == period)
        groups.append(Group(source, where, day, DAY_END_MINUTE, int(count), int(amount)))
    return groups


def _failed_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Failed statement payments by the Shanghai day of their approval: due on the 5th
    working day after it (one MIN/MAX read, then one aggregate bucketed by day)."""
    s = MonthlyStatement
    narrow = [s.status == "FAILED", *_narrow(s, wanted)]
    first, last = ctx.session.execute(
        select(func.min(s.approved_at), func.max(s.approved_at)).where(*narrow)
    ).one()
    if first is None or last is None:
        return []
    last_day = shanghai(_aware(last)).date()
    day = max(shanghai(_aware(first)).date(), last_day - timedelta(days=FAILED_DAYS_MAX))
    ends = []  # (day, the UTC start of the next day)
    while day <= last_day:
        next_start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        ends.append((day, next_start.astimezone(UTC)))
        day += timedelta(days=1)
    bucket = case(
        *[(s.approved_at < end, number) for number, (_, end) in enumerate(ends)],
        else_=len(ends) - 1,
    )
    rows = ctx.session.execute(
        select(bucket, func.count(), func.sum(s.net_fen)).where(*narrow).group_by(bucket)
    ).all()
    groups = []
    for number, count, amount in rows:
        day, end = ends[number]
        where: tuple[Any, ...] = (s.approved_at < end,)
        if number > 0:
            where += (s.approved_at >= ends[number - 1][1],)
        due = deadlines.payment_deadline(day, ctx.book.calendar)
        groups.append(Group(source, where, due, DAY_END_MINUTE, int(count), int(amount)))
    return groups


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _statement_rows(ctx: QueueContext, source: Source, group: Group) -> Select[Any]:
    s = MonthlyStatement
    return select(
        *_row(
            source.kind,
            source.rank,
            doc_id=s.id,
            region_code=s.region_code,
            insutype=s.insutype,
            period=s.period,
            fixmedins_code=s.fixmedins_code,
            amount_fen=s.net_fen,
            maker=s.computed_by,
            status=s.status,
            due_date=group.due_date,
            due_minute=group.due_minute,
        )
    ).where(s.status == _STATUS[source.kind], *group.where)


def _clearing_groups(ctx: QueueContext, source: Source, wanted: QueueFilter) -> list[Group]:
    """Confirmed or failed clearings by year: due on the year's deadline (31 May next)."""
    c = AnnualClearing
    rows = ctx.session.execute(
        select(c.year, func.count(), func.sum(c.actual_fen))
        .where(c.status == _STATUS[source.kind], *_narrow(c, wanted))
        .group_by(c.year)
    ).all()
    if not rows:
        return []
    rules = dict(
        ctx.session.execute(
            select(AnnualRule.year, AnnualRule.deadline).where(
                AnnualRule.year.in_([year for year, _, _ in rows])
            )
        ).all()
    )
    return [
        Group(
            source,
            (c.year == year,),
            rules.get(year, FAR),
            DAY_END_MINUTE,
            int(count),
            int(amount),
        )
        for year, count, amount in rows
    ]


def _clearing_rows(ctx: QueueContext, source: Source, group: Group) -> Select[Any]:
    c = AnnualClearing
    return select(
        *_row(
            source.kind,
            source.rank,
            doc_id=c.id,
            region_code=c.region_code,
            insutype=c.insutype,
            year=c.year,
            fixmedins_code=c.fixmedins_code,
            amount_fen=c.actual_fen,
            maker=c.computed_by,
            status=c.status,
            due_date=group.due_date,
            due_minute=group.due_minute,
        )
    ).where(c.status == _STATUS[source.kind], *group.where)


_STATUS = {
    "statement": "CONFIRMED",
    "statement_failed": "FAILED",
    "clearing": "CONFIRMED",
    "clearing_failed": "FAILED",
}


# --- the registry -----------------------------------------------------------------------------


BATCH = Document(
    entity="daily_batch",
    label="日拨付批次",
    status_kind="batch",
    path="/console/fund/batches/{id}",
    summaries=queries.batch_summaries,
    refusals=queries.batch_refusals,
    done_actions={"daily_batch.approve": "审批", "daily_batch.reject": "退回"},
    approve=actions.approve_batch,
    rejectable=True,
)


STATEMENT = Document(
    entity="statement",
    label="月度结算单",
    status_kind="statement",
    path="/console/fund/statements/{id}",
    summaries=queries.statement_summaries,
    refusals=queries.statement_refusals,
    done_actions={"statement.approve": "审批", "statement.reapprove": "重新审批"},
    approve=actions.approve_statement,
)


CLEARING = Document(
    entity="clearing",
    label="年度清算单",
    status_kind="clearing",
    path="/console/fund/clearings/{id}",
    summaries=queries.clearing_summaries,
    refusals=queries.clearing_refusals,
    done_actions={"clearing.approve": "审批"},
    approve=actions.approve_clearing,
)


ASSISTANCE_STATEMENT = Document(
    entity="assistance_statement",
    label="救助结算单",
    status_kind="assistance_statement",
    path="/console/fund/assistance-statements/{id}",
    summaries=assistance_queries.statement_summaries,
    refusals=assistance_queries.statement_refusals,
    done_actions={
        "assistance_statement.approve": "审批",
        "assistance_statement.reapprove": "重新审批",
    },
    approve=actions.approve_assistance_statement,
)


# Payments to persons: approved in the queue or on their own page (救助支付审批,
# app/console/fund/assistance.py), rejected there with a reason.
PERSON_PAYMENT = Document(
    entity="person_payment",
    label="救助金支付",
    status_kind="person_payment",
    path="/console/fund/assistance/payments#p{id}",
    summaries=assistance_queries.payment_summaries,
    refusals=assistance_queries.payment_refusals,
    done_actions={
        "person_payment.approve": "审批",
        "person_payment.reapprove": "重新审批",
        "person_payment.reject": "驳回",
    },
    approve=actions.approve_person_payment,
)


DOCUMENTS: tuple[Document, ...] = (
    BATCH,
    STATEMENT,
    CLEARING,
    ASSISTANCE_STATEMENT,
    PERSON_PAYMENT,
)


SOURCES: tuple[Source, ...] = (
    Source(
        "daily",
        1,
        BATCH,
        "待审批",
        "拨付日提交银行时点前审批",
        _daily_groups,
        _daily_rows,
        DailyBatch.id,
    ),
    Source(
        "statement_failed",
        2,
        STATEMENT,
        "拨付失败待重新审批",
        "审批后第 5 个工作日内拨付",
        _failed_groups,
        _statement_rows,
        MonthlyStatement.id,
    ),
    Source(
        "statement",
        3,
        STATEMENT,
        "待审批",
        "计算日后第 20 个工作日内完成结算",
        _settlement_groups,
        _statement_rows,
        MonthlyStatement.id,
    ),
    Source(
        "clearing_failed",
        4,
        CLEARING,
        "拨付失败待重新审批",
        "次年 5 月 31 日前拨付完毕",
        _clearing_groups,
        _clearing_rows,
        AnnualClearing.id,
    ),
    Source(
        "clearing",
        5,
        CLEARING,
        "待审批",
        "次年 5 月 31 日前拨付完毕",
        _clearing_groups,
        _clearing_rows,
        AnnualClearing.id,
    ),
    Source(
        "assistance_statement_failed",
        6,
        ASSISTANCE_STATEMENT,
        "拨付失败待重新审批",
        "审批后第 5 个工作日内拨付",
        queue_assistance.failed_groups,
        queue_assistance.rows,
        AssistanceStatement.id,
    ),
    Source(
        "assistance_statement",
        7,
        ASSISTANCE_STATEMENT,
        "待审批",
        "与同期月度结算单同一期限",
        queue_assistance.confirmed_groups,
        queue_assistance.rows,
        AssistanceStatement.id,
    ),
    Source(
        "person_payment_failed",
        8,
        PERSON_PAYMENT,
        "拨付失败待重新审批",
        "审批后第 5 个工作日内拨付",
        queue_assistance.person_failed_groups,
        queue_assistance.person_rows,
        PersonPayment.id,
    ),
    Source(
        "person_payment",
        9,
        PERSON_PAYMENT,
        "待审批",
        "登记后次一工作日 09:00 自动审批",
        queue_assistance.person_groups,
        queue_assistance.person_rows,
        PersonPayment.id,
    ),
)


SOURCES_BY_KIND: dict[str, Source] = {source.kind: source for source in SOURCES}


KIND_OPTIONS = [(s.kind, f"{s.document.label}（{s.label}）") for s in SOURCES]


def document_of(entity: str) -> Document | None:
    return next((d for d in DOCUMENTS if d.entity == entity), None)
