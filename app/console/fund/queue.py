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

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import SHANGHAI
from app.console.fund import queries
from app.console.fund.queries import Summary
from app.console.fund.queue_model import (
    COLUMNS,
    Document,
    Group,
    QueueContext,
    QueueFilter,
    QueueRow,
)
from app.console.fund.queue_model import FAR as FAR
from app.console.fund.queue_sources import DOCUMENTS, SOURCES_BY_KIND
from app.console.fund.queue_sources import KIND_OPTIONS as KIND_OPTIONS
from app.console.fund.queue_sources import SOURCES as SOURCES
from app.console.fund.queue_sources import document_of as document_of

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
