"""Reads of the accountant's pages: every call into a domain service for reading is here (the
writes are in actions.py). No business rule: the services answer, this module gathers, each
list in a bounded number of queries whatever its length."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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
from app.ledger.models import LedgerAccount
from app.ledger.rules import normal_balance
from app.monthly import aging, statements
from app.monthly.models import MonthlyStatement
from app.pagination import CURSOR_CHARS_MAX
from app.settlements.models import Revocation, Settlement
from app.trail.models import AuditEvent
from app.treasury import funds as treasury_funds
from app.treasury.models import Appropriation, FundingRequest

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


# --- the payment monitor ---------------------------------------------------------------------

PROBLEMS_MAX = 100
FAILED_DOCUMENTS_MAX = 200


def instructions_by_status(session: Session, day: date) -> dict[str, tuple[int, int]]:
    """The instructions of a submission day (requested date) per status: (count, fen)."""
    rows = session.execute(
        select(
            PaymentInstruction.status,
            func.count(),
            func.coalesce(func.sum(PaymentInstruction.amount_fen), 0),
        )
        .where(PaymentInstruction.requested_date == day)
        .group_by(PaymentInstruction.status)
    ).all()
    return {status: (int(count), int(amount)) for status, count, amount in rows}


def payment_problems(session: Session, since: datetime) -> list[PaymentInstruction]:
    """Failures and returns the bank reported since `since`, newest first (at most 100)."""
    moment = func.coalesce(PaymentInstruction.returned_at, PaymentInstruction.result_at)
    return list(
        session.scalars(
            select(PaymentInstruction)
            .where(
                or_(
                    and_(
                        PaymentInstruction.status == "FAILED",
                        PaymentInstruction.result_at >= since,
                    ),
                    and_(
                        PaymentInstruction.status == "RETURNED",
                        PaymentInstruction.returned_at >= since,
                    ),
                )
            )
            .order_by(moment.desc(), PaymentInstruction.instruction_id)
            .limit(PROBLEMS_MAX)
        )
    )


@dataclass(frozen=True)
class FailedDocument:
    """A statement or clearing whose payment failed: it waits for an accountant's
    re-approval, then goes again with a new instruction id."""

    entity: str
    id: int
    title: str
    region_code: str
    insutype: str
    fixmedins_code: str
    institution: str | None
    amount_fen: int
    approved_at: datetime | None
    approved_by: str | None
    instruction: PaymentInstruction | None
    refusal: str | None


def failed_documents(session: Session, viewer: Principal) -> list[FailedDocument]:
    """Failed monthly and annual payments waiting for re-approval (at most 200 of each),
    with the failed instruction and why the viewer may not re-approve (the services' rule)."""
    statement_rows = list(
        session.scalars(
            select(MonthlyStatement)
            .where(MonthlyStatement.status == "FAILED")
            .order_by(MonthlyStatement.approved_at, MonthlyStatement.id)
            .limit(FAILED_DOCUMENTS_MAX)
        )
    )
    clearing_rows = list(
        session.scalars(
            select(AnnualClearing)
            .where(AnnualClearing.status == "FAILED")
            .order_by(AnnualClearing.approved_at, AnnualClearing.id)
            .limit(FAILED_DOCUMENTS_MAX)
        )
    )
    documents: list[Any] = [*statement_rows, *clearing_rows]
    names = institution_names(session, sorted({d.fixmedins_code for d in documents}))
    instructions = _instructions(session, [d.instruction_id for d in documents])
    found = [
        _failed(
            "statement", s, f"月度结算单 {_period_title(s.period)}", s.net_fen, names, instructions
        )
        for s in statement_rows
    ]
    found = [
        _with_refusal(document, statements.FLOW.approval_refusal(s, viewer))
        for document, s in zip(found, statement_rows, strict=True)
    ]
    for c in clearing_rows:
        title = f"年度清算单 {c.year}年度"
        document = _failed("clearing", c, title, c.actual_fen, names, instructions)
        found.append(_with_refusal(document, annual.FLOW.approval_refusal(c, viewer)))
    return found


def _failed(
    entity: str,
    row: Any,
    title: str,
    amount_fen: int,
    names: dict[str, str],
    instructions: dict[str, PaymentInstruction],
) -> FailedDocument:
    return FailedDocument(
        entity,
        row.id,
        title,
        row.region_code,
        row.insutype,
        row.fixmedins_code,
        names.get(row.fixmedins_code),
        amount_fen,
        row.approved_at,
        row.approved_by,
        instructions.get(row.instruction_id or ""),
        None,
    )


def _with_refusal(document: FailedDocument, refusal: str | None) -> FailedDocument:
    return FailedDocument(**{**document.__dict__, "refusal": refusal})


def paid_per_day(session: Session, first: date, last: date) -> list[tuple[str, str, date, int]]:
    """Σ successful payments (all kinds) per fund ledger and pay date in [first, last]:
    (region, insurance type, day, fen)."""
    rows = session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.requested_date,
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(
            PaymentInstruction.status == "SUCCESS",
            PaymentInstruction.requested_date.between(first, last),
        )
        .group_by(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.requested_date,
        )
    ).all()
    return [(region, insutype, day, int(amount)) for region, insutype, day, amount in rows]


# --- funds --------------------------------------------------------------------------------------

APPROPRIATIONS_SHOWN = 20


def bank_balances(session: Session) -> dict[tuple[str, str], int]:
    """The expenditure account (`bank`) balance of every fund ledger, from the ledger."""
    rows = session.execute(
        select(LedgerAccount.region_code, LedgerAccount.insutype, LedgerAccount.balance_fen).where(
            LedgerAccount.name == "bank", LedgerAccount.fixmedins_code.is_(None)
        )
    ).all()
    return {
        (region, insutype): normal_balance("bank", int(amount)) for region, insutype, amount in rows
    }


@dataclass
class ToSend:
    """What today's submission of a fund ledger would send, by source (count, fen)."""

    daily: tuple[int, int] = (0, 0)
    statements: tuple[int, int] = (0, 0)
    clearings: tuple[int, int] = (0, 0)
    queued: tuple[int, int] = (0, 0)
    awaiting_approval: tuple[int, int] = (0, 0)  # pushed batches payable today

    @property
    def total_fen(self) -> int:
        return sum(p[1] for p in (self.daily, self.statements, self.clearings, self.queued))


def to_send(session: Session, today: date) -> dict[tuple[str, str], ToSend]:
    """Per fund ledger: approved daily lines payable by today and not sent, approved
    statements and clearings not sent (or failed and re-approved), instructions saved but
    not sent yet, and pushed batches payable today still waiting for approval."""
    found: dict[tuple[str, str], ToSend] = {}

    def put(key: tuple[str, str], name: str, count: Any, amount: Any) -> None:
        setattr(found.setdefault(key, ToSend()), name, (int(count), int(amount or 0)))

    b, line = DailyBatch, DailyLine
    unsent = and_(
        line.held.is_(False),
        line.withdrawn_at.is_(None),
        line.instruction_id.is_(None),
        line.amount_fen > 0,
    )
    for status, name in (("APPROVED", "daily"), ("PUSHED", "awaiting_approval")):
        for region, insutype, count, amount in session.execute(
            select(b.region_code, b.insutype, func.count(), func.sum(line.amount_fen))
            .join(line, line.batch_id == b.id)
            .where(b.status == status, b.pay_date <= today, unsent)
            .group_by(b.region_code, b.insutype)
        ):
            put((region, insutype), name, count, amount)
    for model, amount_column, name in (
        (MonthlyStatement, MonthlyStatement.net_fen, "statements"),
        (AnnualClearing, AnnualClearing.actual_fen, "clearings"),
    ):
        current = PaymentInstruction.instruction_id == model.instruction_id
        for region, insutype, count, amount in session.execute(
            select(model.region_code, model.insutype, func.count(), func.sum(amount_column))
            .outerjoin(PaymentInstruction, current)
            .where(
                model.status == "APPROVED",
                amount_column > 0,
                or_(model.instruction_id.is_(None), PaymentInstruction.status == "FAILED"),
            )
            .group_by(model.region_code, model.insutype)
        ):
            put((region, insutype), name, count, amount)
    for region, insutype, count, amount in session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            func.count(),
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(PaymentInstruction.status == "QUEUED")
        .group_by(PaymentInstruction.region_code, PaymentInstruction.insutype)
    ):
        put((region, insutype), "queued", count, amount)
    return found


def recent_appropriations(session: Session) -> list[Appropriation]:
    return list(
        session.scalars(
            select(Appropriation)
            .order_by(Appropriation.recorded_at.desc(), Appropriation.id.desc())
            .limit(APPROPRIATIONS_SHOWN)
        )
    )


def receivables_by_age(session: Session, today: date) -> list[aging.AgedReceivable]:
    return aging.receivables(session, today=today)


def open_funding_requests(session: Session) -> list[FundingRequest]:
    """The funds check's open funding requests (用款计划), oldest first."""
    return treasury_funds.list_requests(session, status="OPEN", limit=100)
