"""The approval queue's values: documents, sources, groups, filters and rows (moved out of
app/console/fund/queue.py as they were; the design is described there)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Date, Integer, Select, String, cast, literal, null
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.console.fund.book import FundBook
from app.console.fund.queries import Summary
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
