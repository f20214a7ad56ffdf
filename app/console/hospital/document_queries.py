"""Reads of the hospital's documents: monthly statements (月度结算单) and what they are made of,
audit deductions (审核扣款), annual clearings (年度清算), and what the account statement's
references (往来对账单) stand for. Scoped to the officer's institution like `queries`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing
from app.auth.principal import Principal
from app.bank.models import BankReturn, PaymentInstruction
from app.console.hospital.queries import SettlementRow, code_of, settlement_rows
from app.daily.models import DailyBatch, DailyLine
from app.errors import NotFound
from app.monthly import attachments, audits
from app.monthly.models import (
    AuditAttachment,
    AuditItem,
    AuditStep,
    MonthlyStatement,
    ProcurementAdvance,
)
from app.settlements.models import Revocation, Settlement

# --- 月度结算单 ------------------------------------------------------------------------------


def statement_rows(
    session: Session,
    principal: Principal,
    *,
    period: str | None = None,
    insutype: str | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int,
) -> list[MonthlyStatement]:
    query = select(MonthlyStatement).where(MonthlyStatement.fixmedins_code == code_of(principal))
    for value, column in (
        (period, MonthlyStatement.period),
        (insutype, MonthlyStatement.insutype),
        (status, MonthlyStatement.status),
    ):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(MonthlyStatement.id < before_id)
    return list(session.scalars(query.order_by(MonthlyStatement.id.desc()).limit(limit)))


@dataclass
class StatementFacts:
    """What a statement's components are made of (for the words beside each figure)."""

    settlements: int = 0  # of its period
    revoked_here: int = 0  # revocations counted (negative) in its period
    revoked_fen: int = 0
    audits: list[tuple[AuditItem, str]] = field(default_factory=list)  # taken: (item, setl_id)
    advances: list[ProcurementAdvance] = field(default_factory=list)
    returns: list[BankReturn] = field(default_factory=list)
    payments: list[PaymentInstruction] = field(default_factory=list)


def statement_facts(session: Session, statement: MonthlyStatement) -> StatementFacts:
    code, insutype, period = statement.fixmedins_code, statement.insutype, statement.period
    facts = StatementFacts()
    facts.settlements = int(
        session.scalar(
            select(func.count())
            .select_from(Settlement)
            .where(
                Settlement.fixmedins_code == code,
                Settlement.insutype == insutype,
                Settlement.period == period,
            )
        )
        or 0
    )
    count, amount = session.execute(
        select(func.count(), func.coalesce(func.sum(Settlement.fund_amount_fen), 0))
        .select_from(Revocation)
        .join(Settlement, Settlement.id == Revocation.settlement_id)
        .where(
            Revocation.fixmedins_code == code,
            Revocation.insutype == insutype,
            Revocation.period == period,
            Revocation.batched.is_(True),
        )
    ).one()
    facts.revoked_here, facts.revoked_fen = int(count), int(amount)
    facts.audits = [
        (item, setl_id)
        for item, setl_id in session.execute(
            select(AuditItem, Settlement.setl_id)
            .join(Settlement, audits.SETTLEMENT_OF_AUDIT)
            .where(AuditItem.taken_statement_id == statement.id)
            .order_by(AuditItem.id)
        ).all()
    ]
    facts.advances = list(
        session.scalars(
            select(ProcurementAdvance)
            .where(
                ProcurementAdvance.fixmedins_code == code,
                ProcurementAdvance.insutype == insutype,
                ProcurementAdvance.taken_statement_id == statement.id,
            )
            .order_by(ProcurementAdvance.id)
        )
    )
    facts.returns = list(
        session.scalars(
            select(BankReturn)
            .where(
                BankReturn.fixmedins_code == code,
                BankReturn.insutype == insutype,
                BankReturn.taken_by == f"statement:{statement.id}",
            )
            .order_by(BankReturn.id)
        )
    )
    facts.payments = _payments_of(session, "statement", statement.id)
    return facts


def _payments_of(session: Session, source_kind: str, source_id: int) -> list[PaymentInstruction]:
    return list(
        session.scalars(
            select(PaymentInstruction)
            .where(
                PaymentInstruction.source_kind == source_kind,
                PaymentInstruction.source_id == source_id,
            )
            .order_by(PaymentInstruction.created_at)
        )
    )


def statement_settlements(session: Session, statement: MonthlyStatement) -> list[SettlementRow]:
    """The settlements of a statement's period (its XLSX), oldest first."""
    principal = Principal(None, "statement", "hospital", statement.fixmedins_code)
    rows = settlement_rows(
        session,
        principal,
        insutype=statement.insutype,
        period=statement.period,
        limit=100_000,
    )
    return rows[::-1]


# --- 审核扣款 -------------------------------------------------------------------------------

AUDIT_STATUSES = ("INITIAL", "APPEALED", "REVIEWED", "FINAL")


@dataclass(frozen=True)
class AuditRow:
    item: AuditItem
    setl_id: str
    files: int

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def amount_fen(self) -> int:
        return audits.current_amount(self.item)


def audit_rows(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    period: str | None = None,
    before_id: int | None = None,
    limit: int,
) -> list[AuditRow]:
    files = (
        select(func.count())
        .where(AuditAttachment.audit_item_id == AuditItem.id)
        .correlate(AuditItem)
        .scalar_subquery()
    )
    query = (
        select(AuditItem, Settlement.setl_id, files)
        .join(Settlement, audits.SETTLEMENT_OF_AUDIT)
        .where(AuditItem.fixmedins_code == code_of(principal))
    )
    if status is not None:
        query = query.where(AuditItem.status == status)
    if period is not None:
        query = query.where(AuditItem.period == period)
    if before_id is not None:
        query = query.where(AuditItem.id < before_id)
    rows = session.execute(query.order_by(AuditItem.id.desc()).limit(limit)).all()
    return [AuditRow(item, setl_id, int(count)) for item, setl_id, count in rows]


@dataclass
class AuditDetail:
    item: AuditItem
    settlement: Settlement
    steps: list[AuditStep]
    files: list[AuditAttachment]
    statement: MonthlyStatement | None  # the statement that took the final deduction

    @property
    def amount_fen(self) -> int:
        """The deduction as it stands (final, else the latest step's)."""
        return audits.current_amount(self.item)


def audit_detail(session: Session, principal: Principal, item_id: int) -> AuditDetail:
    item = session.get(AuditItem, item_id)
    if item is None or item.fixmedins_code != code_of(principal):
        raise NotFound(f"no audit result {item_id}")
    settlement = session.get(Settlement, item.settlement_id)
    assert settlement is not None
    statement = (
        session.get(MonthlyStatement, item.taken_statement_id) if item.taken_statement_id else None
    )
    return AuditDetail(
        item,
        settlement,
        audits.steps(session, item),
        attachments.of_items(session, [item.id]).get(item.id, []),
        statement,
    )


# --- 年度清算 -------------------------------------------------------------------------------


def clearing_rows(session: Session, principal: Principal) -> list[AnnualClearing]:
    """Every clearing of the institution (one per year and insurance type), newest first."""
    return list(
        session.scalars(
            select(AnnualClearing)
            .where(AnnualClearing.fixmedins_code == code_of(principal))
            .order_by(AnnualClearing.year.desc(), AnnualClearing.insutype)
            .limit(200)
        )
    )


def clearing_payments(session: Session, clearing: AnnualClearing) -> list[PaymentInstruction]:
    return _payments_of(session, "clearing", clearing.id)


# --- 往来对账单: what the ledger's references stand for --------------------------------------


def line_dates(session: Session, line_ids: Sequence[int]) -> dict[int, tuple[date, int]]:
    """Daily line id -> (its business date, its settlement count)."""
    if not line_ids:
        return {}
    rows = session.execute(
        select(DailyLine.id, DailyBatch.business_date, DailyLine.settlement_count)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .where(DailyLine.id.in_(list(line_ids)))
    ).all()
    return {line_id: (day, int(count)) for line_id, day, count in rows}


def statement_periods(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(MonthlyStatement.id, MonthlyStatement.period).where(
                MonthlyStatement.id.in_(list(ids))
            )
        ).all()
    )


def clearing_years(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(AnnualClearing.id, AnnualClearing.year).where(AnnualClearing.id.in_(list(ids)))
        ).all()
    )
