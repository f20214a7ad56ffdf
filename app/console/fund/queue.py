"""The approval queue (待审批): every payable document waiting for a fund accountant, from a
registry of sources, ordered by its deadline, read with one set-based query and a bounded page.

A source is one kind of document in one waiting state (a pushed daily batch, a confirmed
statement, a statement whose payment failed and waits for re-approval, ...). Each gives a
SELECT of the same columns; the queue is their UNION ALL, ordered by (deadline date, deadline
minute, source rank, id) and paged by that key. A new payable document (assistance statements,
payments to persons) plugs in by adding a `Document` and a `Source` to the lists at the end.

Deadlines (docs/rules.md, console):
- daily batch: its pay date at the fund ledger's submission time (14:30 by default; the cut-off,
  15:00 by default, is shown beside it);
- confirmed statement: the 20th working day after its period's computation date;
- failed statement payment: the 5th working day after its approval;
- annual clearing (confirmed or failed): the year's deadline (31 May of the next year).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from app.annual.models import AnnualClearing, AnnualRule
from app.auth.service import Principal
from app.clock import SHANGHAI, period_end, shanghai
from app.console.fund import actions, queries
from app.console.fund.book import FundBook
from app.console.fund.queries import Summary
from app.daily.models import DailyApproval, DailyBatch, DailyLine
from app.monthly import deadlines
from app.monthly.models import MonthlyStatement
from app.pagination import encode_cursor

FAR = date(9999, 12, 31)  # no deadline known: last
DAY_END_MINUTE = 24 * 60 - 1  # a working-day limit runs to the end of its day
FAILED_DAYS_MAX = 400  # failed payments approved earlier than this share the first deadline
PAGE_DEFAULT = 50


@dataclass(frozen=True)
class Document:
    """A kind of payable document: its trail entity, its page, how to describe it and why a
    person may not approve it (asked of its domain service)."""

    entity: str
    label: str
    status_kind: str
    path: str  # with {id}
    summaries: Callable[[Session, list[int]], dict[int, Summary]]
    refusals: Callable[[Session, list[int], Principal], dict[int, str | None]]
    done_actions: dict[str, str]  # trail action -> what was done (审批, 退回, ...)
    approve: Callable[[Session, int, Principal, datetime], None]
    rejectable: bool = False

    def url(self, doc_id: int) -> str:
        return self.path.format(id=doc_id)


@dataclass(frozen=True)
class QueueContext:
    session: Session
    book: FundBook
    today: date


SourceSelect = Callable[[QueueContext, "Source"], Select[Any]]


@dataclass(frozen=True)
class Source:
    kind: str
    rank: int
    document: Document
    label: str  # what waits: 待审批, 拨付失败待重新审批
    select: SourceSelect
    deadline_note: str  # how its deadline is set


@dataclass
class QueueRow:
    kind: str
    doc_id: int
    region_code: str
    insutype: str
    business_date: date | None
    period: str | None
    year: int | None
    fixmedins_code: str | None
    amount_fen: int
    hospitals: int
    maker: str
    status: str
    approvals: int
    approvals_required: int
    due_date: date
    due_minute: int
    source: Source | None = None
    institution: str | None = None
    refusal: str | None = None
    mine: bool = False  # the viewer approved it already (a second approval is needed)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def due_time(self) -> time | None:
        if self.due_minute >= DAY_END_MINUTE:
            return None
        return time(self.due_minute // 60, self.due_minute % 60)

    def cursor(self) -> str:
        return encode_cursor([self.due_date.isoformat(), self.due_minute, self._rank, self.doc_id])

    @property
    def _rank(self) -> int:
        assert self.source is not None
        return self.source.rank


COLUMNS = (
    "kind",
    "rank",
    "doc_id",
    "region_code",
    "insutype",
    "business_date",
    "period",
    "year",
    "fixmedins_code",
    "amount_fen",
    "hospitals",
    "maker",
    "status",
    "approvals",
    "approvals_required",
    "due_date",
    "due_minute",
)


def _row(
    kind: str,
    rank: int,
    *,
    doc_id: Any,
    region_code: Any,
    insutype: Any,
    amount_fen: Any,
    maker: Any,
    status: Any,
    due_date: Any,
    business_date: Any = None,
    period: Any = None,
    year: Any = None,
    fixmedins_code: Any = None,
    hospitals: Any = 1,
    approvals: Any = 0,
    approvals_required: Any = 1,
    due_minute: Any = DAY_END_MINUTE,
) -> list[Any]:
    """The columns of a source's SELECT, in COLUMNS order, NULLs typed for the UNION."""

    def value(given: Any, kind_of: Any) -> Any:
        if given is None:
            return cast(null(), kind_of)
        if isinstance(given, (int, str, date)):
            return literal(given, kind_of)
        return given

    columns = [
        literal(kind, String),
        literal(rank, Integer),
        doc_id,
        region_code,
        insutype,
        value(business_date, Date),
        value(period, String),
        value(year, Integer),
        value(fixmedins_code, String),
        amount_fen,
        value(hospitals, Integer),
        maker,
        status,
        value(approvals, Integer),
        value(approvals_required, Integer),
        value(due_date, Date),
        value(due_minute, Integer),
    ]
    return [column.label(name) for column, name in zip(columns, COLUMNS, strict=True)]


# --- the sources' SELECTs -------------------------------------------------------------------


def _daily_pending(ctx: QueueContext, source: Source) -> Select[Any]:
    """Pushed batches: the lines still to pay (not held back), approvals of this round; due
    on the pay date at the fund ledger's submission time."""
    b = DailyBatch
    paying = and_(DailyLine.batch_id == b.id, DailyLine.held.is_(False))
    amount = select(func.coalesce(func.sum(DailyLine.amount_fen), 0)).where(paying)
    hospitals = select(func.count()).where(paying, DailyLine.amount_fen > 0)
    approvals = (
        select(func.count())
        .select_from(DailyApproval)
        .where(DailyApproval.batch_id == b.id, DailyApproval.push_round == b.push_round)
    )
    minutes = {
        fund_id: _minute(ctx.book.submission_times(fund_id, ctx.today)[0])
        for fund_id in ctx.book.funds
        if ctx.book.versions.get(fund_id)
    }
    due_minute: Any = (
        case(minutes, value=b.fund_ledger_id, else_=DAY_END_MINUTE) if minutes else DAY_END_MINUTE
    )
    return select(
        *_row(
            source.kind,
            source.rank,
            doc_id=b.id,
            region_code=b.region_code,
            insutype=b.insutype,
            business_date=b.business_date,
            amount_fen=amount.scalar_subquery(),
            hospitals=hospitals.scalar_subquery(),
            maker=b.pushed_by,
            status=b.status,
            approvals=approvals.scalar_subquery(),
            approvals_required=b.approvals_required,
            due_date=b.pay_date,
            due_minute=due_minute,
        )
    ).where(b.status == "PUSHED")


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _statement_settlement_due(ctx: QueueContext) -> Any:
    """CASE over (region, insurance type, period) → the 20-working-day settlement deadline:
    one small DISTINCT read of the waiting statements' keys (fund ledgers × open periods)."""
    s = MonthlyStatement
    keys = ctx.session.execute(
        select(s.region_code, s.insutype, s.period).where(s.status == "CONFIRMED").distinct()
    ).all()
    whens = []
    for region, insutype, period in sorted(keys):
        fund = ctx.book.find(region, insutype)
        policy = ctx.book.policy(fund.id, period_end(period)) if fund else None
        day = deadlines.settlement_deadline(
            period, policy.declaration_day if policy else 15, ctx.book.calendar
        )
        condition = and_(s.region_code == region, s.insutype == insutype, s.period == period)
        whens.append((condition, literal(day, Date)))
    return case(*whens, else_=literal(FAR, Date)) if whens else literal(FAR, Date)


def _payment_due(ctx: QueueContext, model: Any) -> Any:
    """CASE over the Shanghai day of `approved_at` → the 5-working-day payment deadline, for
    the model's FAILED rows (one MIN/MAX read; a day boundary per day between them)."""
    first, last = ctx.session.execute(
        select(func.min(model.approved_at), func.max(model.approved_at)).where(
            model.status == "FAILED"
        )
    ).one()
    if first is None:
        return literal(FAR, Date)
    day, last_day = shanghai(_aware(first)).date(), shanghai(_aware(last)).date()
    day = max(day, last_day - timedelta(days=FAILED_DAYS_MAX))
    whens = []
    while day <= last_day:
        next_start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        deadline = deadlines.payment_deadline(day, ctx.book.calendar)
        whens.append((model.approved_at < next_start.astimezone(UTC), literal(deadline, Date)))
        day += timedelta(days=1)
    return case(*whens, else_=literal(FAR, Date))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _statements(ctx: QueueContext, status: str, source: Source) -> Select[Any]:
    s = MonthlyStatement
    due = _statement_settlement_due(ctx) if status == "CONFIRMED" else _payment_due(ctx, s)
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
            due_date=due,
        )
    ).where(s.status == status)


def _clearings(ctx: QueueContext, status: str, source: Source) -> Select[Any]:
    c = AnnualClearing
    return (
        select(
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
                due_date=func.coalesce(AnnualRule.deadline, literal(FAR, Date)),
            )
        )
        .outerjoin(AnnualRule, AnnualRule.year == c.year)
        .where(c.status == status)
    )


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
DOCUMENTS: tuple[Document, ...] = (BATCH, STATEMENT, CLEARING)


def _waiting(status: str, read: Callable[..., Select[Any]]) -> SourceSelect:
    def select_of(ctx: QueueContext, source: Source) -> Select[Any]:
        return read(ctx, status, source)

    return select_of


SOURCES: tuple[Source, ...] = (
    Source("daily", 1, BATCH, "待审批", _daily_pending, "拨付日提交银行时点前审批"),
    Source(
        "statement_failed",
        2,
        STATEMENT,
        "拨付失败待重新审批",
        _waiting("FAILED", _statements),
        "审批后第 5 个工作日内拨付",
    ),
    Source(
        "statement",
        3,
        STATEMENT,
        "待审批",
        _waiting("CONFIRMED", _statements),
        "计算日后第 20 个工作日内完成结算",
    ),
    Source(
        "clearing_failed",
        4,
        CLEARING,
        "拨付失败待重新审批",
        _waiting("FAILED", _clearings),
        "次年 5 月 31 日前拨付完毕",
    ),
    Source(
        "clearing",
        5,
        CLEARING,
        "待审批",
        _waiting("CONFIRMED", _clearings),
        "次年 5 月 31 日前拨付完毕",
    ),
)
SOURCES_BY_KIND: dict[str, Source] = {source.kind: source for source in SOURCES}
KIND_OPTIONS = [(s.kind, f"{s.document.label}（{s.label}）") for s in SOURCES]


def document_of(entity: str) -> Document | None:
    return next((d for d in DOCUMENTS if d.entity == entity), None)


# --- reading the queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    kinds: Sequence[str] = ()
    region_code: str | None = None
    insutype: str | None = None


def queue_subquery(ctx: QueueContext, wanted: QueueFilter) -> Subquery:
    """The UNION ALL of the wanted sources, filtered by region and insurance type."""
    sources = [s for s in SOURCES if not wanted.kinds or s.kind in wanted.kinds]
    selects = []
    for source in sources:
        query = source.select(ctx, source)
        # Filters apply inside each branch (an index can serve them).
        selected = query.selected_columns
        if wanted.region_code:
            query = query.where(selected.region_code == wanted.region_code)
        if wanted.insutype:
            query = query.where(selected.insutype == wanted.insutype)
        selects.append(query)
    return union_all(*selects).subquery("queue")


def read_page(
    ctx: QueueContext, queue: Subquery, *, after: list[Any] | None, limit: int
) -> tuple[list[QueueRow], str | None]:
    """One page in deadline order after the key `after`; (rows, cursor of the next page)."""
    key = (queue.c.due_date, queue.c.due_minute, queue.c.rank, queue.c.doc_id)
    query = select(*[queue.c[name] for name in COLUMNS]).order_by(*key).limit(limit + 1)
    if after is not None:
        due, minute, rank, doc_id = after
        query = query.where(
            tuple_(*key)
            > tuple_(
                literal(due, Date),
                literal(minute, Integer),
                literal(rank, Integer),
                literal(doc_id, queue.c.doc_id.type),
            )
        )
    rows = []
    for found in ctx.session.execute(query).mappings():
        values = {name: found[name] for name in COLUMNS if name != "rank"}
        row = QueueRow(**values)
        row.source = SOURCES_BY_KIND[row.kind]
        row.amount_fen, row.hospitals = int(row.amount_fen), int(row.hospitals)
        rows.append(row)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].cursor() if more and rows else None


def totals(ctx: QueueContext, queue: Subquery) -> dict[str, tuple[int, int]]:
    """Per source kind: (documents, amount in fen)."""
    rows = ctx.session.execute(
        select(queue.c.kind, func.count(), func.coalesce(func.sum(queue.c.amount_fen), 0)).group_by(
            queue.c.kind
        )
    ).all()
    return {kind: (int(count), int(amount)) for kind, count, amount in rows}


def due_counts(ctx: QueueContext, queue: Subquery, today: date) -> dict[str, int]:
    """How many documents are overdue and how many are due today."""
    late, due_today = ctx.session.execute(
        select(
            func.coalesce(func.sum(case((queue.c.due_date < today, 1), else_=0)), 0),
            func.coalesce(func.sum(case((queue.c.due_date == today, 1), else_=0)), 0),
        )
    ).one()
    return {"late": int(late), "today": int(due_today)}


def decorate(ctx: QueueContext, rows: list[QueueRow], viewer: Principal) -> None:
    """Institution names, why the viewer may not approve (asked of the domain services, one
    query per document kind on the page), and whether the viewer approved already."""
    names = queries.institution_names(
        ctx.session, sorted({r.fixmedins_code for r in rows if r.fixmedins_code})
    )
    for document in DOCUMENTS:
        ids = sorted({r.doc_id for r in rows if r.source and r.source.document is document})
        if not ids:
            continue
        refusals = document.refusals(ctx.session, ids, viewer)
        for row in rows:
            if row.source and row.source.document is document:
                row.refusal = refusals.get(row.doc_id)
    batch_ids = [r.doc_id for r in rows if r.kind == "daily"]
    mine = queries.approved_by(ctx.session, batch_ids, viewer.name)
    for row in rows:
        row.institution = names.get(row.fixmedins_code or "")
        row.mine = row.kind == "daily" and row.doc_id in mine


def decode_after(raw: str | None) -> tuple[list[Any] | None, str | None]:
    """The page key of `after=` (from this page's own links), or an error in Chinese."""
    if not raw:
        return None, None
    key = queries.decode_key(raw)
    if (
        isinstance(key, list)
        and len(key) == 4
        and isinstance(key[0], str)
        and all(type(v) is int and 0 <= v < 2**63 for v in key[1:])
    ):
        try:
            return [date.fromisoformat(key[0]), *key[1:]], None
        except ValueError:
            pass
    return None, "翻页位置无效，已回到第一页"


# --- done today ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    at: datetime
    actor: str
    what: str
    document: Document
    summary: Summary | None
    reason: str | None


def done_today(session: Session, today: date, *, limit: int = 200) -> list[Done]:
    """What accountants approved, re-approved or rejected today (the audit trail), newest
    first; the documents are read one query per kind."""
    actions = {action: d for d in DOCUMENTS for action in d.done_actions}
    since = datetime.combine(today, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    events = queries.trail_since(session, list(actions), since, limit)
    by_document: dict[str, list[int]] = {}
    for event in events:
        if event.entity_key.isdigit():
            by_document.setdefault(actions[event.action].entity, []).append(int(event.entity_key))
    summaries = {
        d.entity: d.summaries(session, sorted(set(by_document[d.entity])))
        for d in DOCUMENTS
        if d.entity in by_document
    }
    done = []
    for event in events:
        document = actions[event.action]
        key = int(event.entity_key) if event.entity_key.isdigit() else -1
        after = event.after if isinstance(event.after, dict) else {}
        done.append(
            Done(
                at=event.at,
                actor=event.actor,
                what=document.done_actions[event.action],
                document=document,
                summary=summaries.get(document.entity, {}).get(key),
                reason=after.get("reason"),
            )
        )
    return done
