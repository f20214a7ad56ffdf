"""The approval queue (待审批): every payable document waiting for a fund accountant, from a
registry of sources, ordered by its deadline, read with one set-based query and a bounded page.

A source is one kind of document in one waiting state (a pushed daily batch, a confirmed
statement, a statement whose payment failed and waits for re-approval, ...). Its documents fall
into groups that share one deadline (the statements of one fund ledger and period, the
clearings of one year, the failed payments approved on one day): one aggregate query per
source finds the groups with their counts and amounts. A page is then one UNION ALL of a
branch per group that can reach it, each `ORDER BY id LIMIT page + 1` on its group, ordered by
(deadline date, deadline minute, source rank, id) and paged by that key: the cost of a page
does not grow with the number of documents waiting. A new payable document (assistance
statements, payments to persons) plugs in by adding a `Document` and a `Source` to the lists
at the end.

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
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing, AnnualRule
from app.auth.principal import Principal
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


@dataclass(frozen=True)
class QueueFilter:
    kinds: Sequence[str] = ()
    region_code: str | None = None
    insutype: str | None = None


@dataclass(frozen=True)
class Group:
    """Documents of one source sharing one deadline: `where` narrows the source to them."""

    source: Source
    where: tuple[Any, ...]
    due_date: date
    due_minute: int
    count: int
    amount_fen: int

    @property
    def key(self) -> tuple[date, int, int]:
        return (self.due_date, self.due_minute, self.source.rank)


GroupsOf = Callable[[QueueContext, "Source", QueueFilter], list[Group]]
RowsOf = Callable[[QueueContext, "Source", Group], Select[Any]]


@dataclass(frozen=True)
class Source:
    kind: str
    rank: int
    document: Document
    label: str  # what waits: 待审批, 拨付失败待重新审批
    deadline_note: str  # how its deadline is set
    groups: GroupsOf  # one aggregate query
    rows: RowsOf  # the page's columns of one group, its id first in ORDER BY
    id_column: Any


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
DOCUMENTS: tuple[Document, ...] = (BATCH, STATEMENT, CLEARING)


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
)
SOURCES_BY_KIND: dict[str, Source] = {source.kind: source for source in SOURCES}
KIND_OPTIONS = [(s.kind, f"{s.document.label}（{s.label}）") for s in SOURCES]


def document_of(entity: str) -> Document | None:
    return next((d for d in DOCUMENTS if d.entity == entity), None)


# --- reading the queue ---------------------------------------------------------------------


def find_groups(ctx: QueueContext, wanted: QueueFilter) -> list[Group]:
    """Every group of the wanted sources, in deadline order: one aggregate per source."""
    found = []
    for source in SOURCES:
        if not wanted.kinds or source.kind in wanted.kinds:
            found += source.groups(ctx, source, wanted)
    return sorted(found, key=lambda g: g.key)


def read_page(
    ctx: QueueContext, groups: list[Group], *, after: list[Any] | None, limit: int
) -> tuple[list[QueueRow], str | None]:
    """One page in deadline order after the key `after`; (rows, cursor of the next page).
    A branch per group that can reach the page: those of the key `after` stands in (from
    the id after it) and as many later ones as hold limit + 1 documents."""
    branches = []
    reach = 0
    for group in groups:
        if reach > limit:
            break
        query = group.source.rows(ctx, group.source, group)
        if after is not None:
            at = (after[0], after[1], after[2])
            if group.key < at:
                continue
            if group.key == at:
                query = query.where(group.source.id_column > after[3])
            else:
                reach += group.count
        else:
            reach += group.count
        branches.append(query.order_by(group.source.id_column).limit(limit + 1).subquery())
    if not branches:
        return [], None
    union = union_all(*[select(*branch.c) for branch in branches]).subquery("queue")
    key = (union.c.due_date, union.c.due_minute, union.c.rank, union.c.doc_id)
    query = select(*[union.c[name] for name in COLUMNS]).order_by(*key).limit(limit + 1)
    rows = []
    for found in ctx.session.execute(query).mappings():
        row = QueueRow(**{name: found[name] for name in COLUMNS if name != "rank"})
        row.source = SOURCES_BY_KIND[row.kind]
        row.amount_fen, row.hospitals = int(row.amount_fen), int(row.hospitals)
        rows.append(row)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].cursor() if more and rows else None


def totals(groups: list[Group]) -> dict[str, tuple[int, int]]:
    """Per source kind: (documents, amount in fen)."""
    sums: dict[str, tuple[int, int]] = {}
    for group in groups:
        count, amount = sums.get(group.source.kind, (0, 0))
        sums[group.source.kind] = (count + group.count, amount + group.amount_fen)
    return sums


def due_counts(groups: list[Group], today: date) -> dict[str, int]:
    """How many documents are overdue and how many are due today."""
    return {
        "late": sum(g.count for g in groups if g.due_date < today),
        "today": sum(g.count for g in groups if g.due_date == today),
    }


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
