"""Reads of the accountant's pages: every call into a domain service for reading is here (the
writes are in actions.py). No business rule: the services answer, this module gathers, each
list in a bounded number of queries whatever its length."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.annual import service as annual
from app.annual.models import AnnualClearing
from app.auth.principal import Principal
from app.bank.models import PaymentInstruction
from app.daily import service as daily
from app.daily.models import DailyApproval, DailyBatch, DailyLine
from app.institutions import service as institutions
from app.institutions.models import Institution
from app.monthly import statements
from app.monthly.models import MonthlyStatement
from app.pagination import CURSOR_CHARS_MAX
from app.settlements.models import Revocation, Settlement
from app.trail.models import AuditEvent

IDS_MAX = 500  # a page never asks about more documents than this


def decode_key(raw: str) -> Any:
    """The JSON value inside one of this console's opaque page keys; None when it is not."""
    if len(raw) > CURSOR_CHARS_MAX:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode((raw + "=" * (-len(raw) % 4)).encode()))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def institution_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    assert len(codes) <= IDS_MAX
    if not codes:
        return {}
    rows = session.execute(
        select(Institution.code, Institution.name).where(Institution.code.in_(list(codes)))
    )
    return {code: name for code, name in rows}


# --- documents of the queue -----------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One document as the lists show it."""

    id: int
    title: str
    region_code: str
    insutype: str
    fixmedins_code: str | None
    amount_fen: int
    hospitals: int
    status: str


def batch_summaries(session: Session, ids: list[int]) -> dict[int, Summary]:
    assert len(ids) <= IDS_MAX
    return {
        b.id: Summary(
            id=b.id,
            title=b.business_date.isoformat(),
            region_code=b.region_code,
            insutype=b.insutype,
            fixmedins_code=None,
            amount_fen=b.amount_fen,
            hospitals=b.line_count,
            status=b.status,
        )
        for b in session.scalars(select(DailyBatch).where(DailyBatch.id.in_(ids)))
    }


def batch_refusals(session: Session, ids: list[int], viewer: Principal) -> dict[int, str | None]:
    """Why the viewer may not approve each batch: the daily service's maker–checker rule."""
    assert len(ids) <= IDS_MAX
    makers = daily.makers(session, ids)
    return {batch_id: daily.approval_refusal(makers[batch_id], viewer) for batch_id in ids}


def batch_makers(session: Session, batch_id: int) -> set[str]:
    return daily.makers(session, [batch_id])[batch_id]


def approved_by(session: Session, batch_ids: list[int], name: str) -> set[int]:
    """The batches (of those given) the person approved in their current push round."""
    assert len(batch_ids) <= IDS_MAX
    if not batch_ids:
        return set()
    rows = session.scalars(
        select(DailyApproval.batch_id)
        .join(DailyBatch, DailyBatch.id == DailyApproval.batch_id)
        .where(
            DailyApproval.batch_id.in_(batch_ids),
            DailyApproval.approver == name,
            DailyApproval.push_round == DailyBatch.push_round,
        )
    )
    return set(rows)


def _period_title(period: str) -> str:
    year, month = period.split("-")
    return f"{int(year)}年{int(month)}月"


def statement_summaries(session: Session, ids: list[int]) -> dict[int, Summary]:
    assert len(ids) <= IDS_MAX
    return {
        s.id: Summary(
            id=s.id,
            title=_period_title(s.period),
            region_code=s.region_code,
            insutype=s.insutype,
            fixmedins_code=s.fixmedins_code,
            amount_fen=s.net_fen,
            hospitals=1,
            status=s.status,
        )
        for s in session.scalars(select(MonthlyStatement).where(MonthlyStatement.id.in_(ids)))
    }


def statement_refusals(
    session: Session, ids: list[int], viewer: Principal
) -> dict[int, str | None]:
    """Why the viewer may not approve each statement: the monthly service's rule."""
    assert len(ids) <= IDS_MAX
    rows = session.scalars(select(MonthlyStatement).where(MonthlyStatement.id.in_(ids)))
    return {s.id: statements.FLOW.approval_refusal(s, viewer) for s in rows}


def clearing_summaries(session: Session, ids: list[int]) -> dict[int, Summary]:
    assert len(ids) <= IDS_MAX
    return {
        c.id: Summary(
            id=c.id,
            title=f"{c.year}年度",
            region_code=c.region_code,
            insutype=c.insutype,
            fixmedins_code=c.fixmedins_code,
            amount_fen=c.actual_fen,
            hospitals=1,
            status=c.status,
        )
        for c in session.scalars(select(AnnualClearing).where(AnnualClearing.id.in_(ids)))
    }


def clearing_refusals(session: Session, ids: list[int], viewer: Principal) -> dict[int, str | None]:
    """Why the viewer may not approve each clearing: the annual service's rule."""
    assert len(ids) <= IDS_MAX
    rows = session.scalars(select(AnnualClearing).where(AnnualClearing.id.in_(ids)))
    return {c.id: annual.FLOW.approval_refusal(c, viewer) for c in rows}


def trail_since(
    session: Session, actions: list[str], since: datetime, limit: int
) -> list[AuditEvent]:
    """Trail events of these actions at or after `since`, newest first (the `at` index)."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.at >= since, AuditEvent.action.in_(actions))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


# --- a batch, its lines, the settlements behind a line ------------------------------------------


@dataclass(frozen=True)
class LineRow:
    line: DailyLine
    institution: str | None
    instruction: PaymentInstruction | None
    payment: str  # NOT_SENT, PENDING, PAID, FAILED, RETURNED (the daily service's reading)


def batch(session: Session, batch_id: int) -> DailyBatch:
    return daily.get_batch(session, batch_id)


def batch_lines(
    session: Session, batch: DailyBatch, *, after_code: str | None, limit: int
) -> list[LineRow]:
    """A page of the batch's lines by institution code (limit + 1 rows read), each with its
    instruction and payment status: three queries whatever the page size."""
    assert 0 < limit <= IDS_MAX
    query = (
        select(DailyLine)
        .where(DailyLine.batch_id == batch.id)
        .order_by(DailyLine.fixmedins_code)
        .limit(limit + 1)
    )
    if after_code is not None:
        query = query.where(DailyLine.fixmedins_code > after_code)
    lines = list(session.scalars(query))
    names = institution_names(session, [line.fixmedins_code for line in lines])
    instructions = _instructions(session, [line.instruction_id for line in lines])
    rows = []
    for line in lines:
        instruction = instructions.get(line.instruction_id or "")
        rows.append(
            LineRow(
                line,
                names.get(line.fixmedins_code),
                instruction,
                daily.line_status(line, instruction.status if instruction else None),
            )
        )
    return rows


def _instructions(session: Session, ids: Sequence[str | None]) -> dict[str, PaymentInstruction]:
    wanted = sorted({i for i in ids if i})
    assert len(wanted) <= IDS_MAX + 1
    if not wanted:
        return {}
    rows = session.scalars(
        select(PaymentInstruction).where(PaymentInstruction.instruction_id.in_(wanted))
    )
    return {row.instruction_id: row for row in rows}


@dataclass(frozen=True)
class BatchFigures:
    """What the batch's lines add up to, by how they stand."""

    lines: int
    late: int
    held: int
    held_fen: int
    withdrawn: int
    zero: int
    paying_fen: int  # not held, not withdrawn


def batch_figures(session: Session, batch: DailyBatch) -> BatchFigures:
    held = DailyLine.held.is_(True)
    withdrawn = DailyLine.withdrawn_at.is_not(None)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((DailyLine.late.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((held, 1), else_=0)), 0),
            func.coalesce(func.sum(case((held, DailyLine.amount_fen), else_=0)), 0),
            func.coalesce(func.sum(case((withdrawn, 1), else_=0)), 0),
            func.coalesce(func.sum(case((DailyLine.amount_fen == 0, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((and_(~held, ~withdrawn), DailyLine.amount_fen), else_=0)), 0
            ),
        ).where(DailyLine.batch_id == batch.id)
    ).one()
    return BatchFigures(*(int(value) for value in row))


def batch_approvals(session: Session, batch: DailyBatch) -> list[DailyApproval]:
    return daily.approvals(session, batch)


def line(session: Session, batch_id: int, code: str) -> DailyLine:
    return daily.get_line(session, batch_id, code)


def line_settlements(
    session: Session, batch: DailyBatch, code: str, *, after_id: int | None, limit: int
) -> list[Settlement]:
    """A page of a line's details (明细): the batch's member settlements of the institution,
    by id (limit + 1 rows read)."""
    assert 0 < limit <= IDS_MAX
    query = (
        select(Settlement)
        .where(daily.members(batch), Settlement.fixmedins_code == code)
        .order_by(Settlement.id)
        .limit(limit + 1)
    )
    if after_id is not None:
        query = query.where(Settlement.id > after_id)
    return list(session.scalars(query))


def revoked_ids(session: Session, settlement_ids: Sequence[int]) -> set[int]:
    """Of these settlements, the ones revoked (after batching: they stay in the batch)."""
    assert len(settlement_ids) <= IDS_MAX + 1
    if not settlement_ids:
        return set()
    rows = session.scalars(
        select(Revocation.settlement_id).where(Revocation.settlement_id.in_(list(settlement_ids)))
    )
    return set(rows)


# --- statements and clearings --------------------------------------------------------------------


def statement(session: Session, statement_id: int, viewer: Principal) -> MonthlyStatement:
    return statements.FLOW.get(session, statement_id, actor=viewer)


def clearing(session: Session, clearing_id: int, viewer: Principal) -> AnnualClearing:
    return annual.FLOW.get(session, clearing_id, actor=viewer)


def institution(session: Session, code: str) -> Institution:
    return institutions.get_institution(session, code)


def payments_of(session: Session, source_kind: str, source_id: int) -> list[PaymentInstruction]:
    """The instructions that paid (or tried to pay) a document, first one first."""
    return list(
        session.scalars(
            select(PaymentInstruction)
            .where(
                PaymentInstruction.source_kind == source_kind,
                PaymentInstruction.source_id == source_id,
            )
            .order_by(PaymentInstruction.created_at, PaymentInstruction.instruction_id)
            .limit(IDS_MAX)
        )
    )


# --- history: the audit trail of a document ---------------------------------------------------

HISTORY_MAX = 500


def trail_of(
    session: Session, entity: str, keys: Sequence[str], prefix: str | None = None
) -> list[AuditEvent]:
    """Trail events of an entity under these keys (or starting with `prefix`), oldest first."""
    condition: Any = AuditEvent.entity_key.in_(list(keys))
    if prefix is not None:
        condition = or_(condition, AuditEvent.entity_key.startswith(prefix, autoescape=True))
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, condition)
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(HISTORY_MAX)
        )
    )
