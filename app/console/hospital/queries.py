"""Reads of the hospital pages: one institution's documents, each list a bounded, indexed query
(by institution first), paged newest first (the cursor is the last row's id: rows before it).
This module holds the shared helpers, the settlements (结算明细) and the daily lines (日拨付到账);
`home_queries`, `document_queries` and `period_queries` the other pages' reads.

No business rule here: a line's payment status, whether a period may be declared and the
account statement come from the domains (daily.line_status, declarations.readiness,
ledger.account_statement). A settlement's status follows API.md's definition (accepted,
batched, paid, revoked), the rule of `app.settlements.status`; the hospital's list joins the
batch, line and payment anyway (it shows them), so it reads the status from those joined rows
(`SettlementRow.status`); tests/api/test_settlement_status.py holds the API to the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bank import rules as bank_rules
from app.bank.models import PaymentInstruction
from app.daily import membership
from app.daily import service as daily
from app.daily.models import DailyBatch, DailyLine
from app.daily.rules import LineStatus
from app.errors import NotFound
from app.institutions import service as institutions
from app.institutions.models import Institution
from app.monthly import attachments, audits
from app.monthly.models import AuditAttachment, AuditItem, AuditStep, MonthlyStatement
from app.settlements.models import Revocation, Settlement
from app.settlements.rules import SettlementStatus
from app.states import values


def code_of(principal: Principal) -> str:
    assert principal.is_hospital and principal.fixmedins_code, "hospital pages only"
    return principal.fixmedins_code


def institution(session: Session, principal: Principal) -> Institution:
    return institutions.get_institution(session, code_of(principal))


def insutypes(session: Session, principal: Principal) -> list[str]:
    """The insurance types the institution is (or was) enrolled for, in order."""
    return sorted({e.insutype for e in institutions.enrollments(session, code_of(principal))})


def _fund_ids(session: Session, region_code: str) -> list[int]:
    return [f.id for f in institutions.list_fund_ledgers(session) if f.region_code == region_code]


# --- 结算明细: settlements with their daily line and payment ------------------------------------

SETTLEMENT_STATUSES = values(SettlementStatus)  # API.md GET /settlements


@dataclass(frozen=True)
class SettlementRow:
    settlement: Settlement
    revocation: Revocation | None
    business_date: date | None  # the daily batch that holds it (None: not batched)
    pay_date: date | None
    line: DailyLine | None
    instruction_status: str | None
    receipt_no: str | None

    @property
    def id(self) -> int:
        return self.settlement.id

    @property
    def status(self) -> str:
        """accepted, batched, paid or revoked (API.md): a revocation wins; paid when the
        daily payment of its line arrived."""
        if self.revocation is not None:
            return "revoked"
        if self.instruction_status == "SUCCESS":
            return "paid"
        return "batched" if self.business_date is not None else "accepted"

    @property
    def payment(self) -> str | None:
        """The daily payment of its line, as the daily domain names it (None: no line)."""
        if self.line is None:
            return None
        if self.line.withdrawn_at is not None:
            return "WITHDRAWN"
        if self.line.held and self.instruction_status is None:
            return "HELD"
        return daily.line_status(self.line, self.instruction_status)


def _holding_batch(fund_ids: Sequence[int]) -> Any:
    """Join condition: the daily batch holding a settlement (its batch date in the batch's
    range, daily.members), unless it was revoked before batching (then in no batch)."""
    return and_(
        DailyBatch.fund_ledger_id.in_(list(fund_ids)),
        membership.holds(),
        or_(Revocation.id.is_(None), Revocation.batched.is_(True)),
    )


def _settlement_query(session: Session, principal: Principal) -> Any:
    code = code_of(principal)
    fund_ids = _fund_ids(session, institution(session, principal).region_code)
    return (
        select(
            Settlement,
            Revocation,
            DailyBatch.business_date,
            DailyBatch.pay_date,
            DailyLine,
            PaymentInstruction.status,
            PaymentInstruction.receipt_no,
        )
        .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
        .outerjoin(DailyBatch, _holding_batch(fund_ids))
        .outerjoin(
            DailyLine,
            and_(DailyLine.batch_id == DailyBatch.id, DailyLine.fixmedins_code == code),
        )
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id
        )
        .where(Settlement.fixmedins_code == code)
    )


def _settlement_status(status: str) -> Any:
    if status == "revoked":
        return Revocation.id.is_not(None)
    if status == "paid":
        return and_(Revocation.id.is_(None), PaymentInstruction.status == "SUCCESS")
    if status == "batched":
        return and_(
            Revocation.id.is_(None),
            DailyBatch.id.is_not(None),
            or_(PaymentInstruction.status.is_(None), PaymentInstruction.status != "SUCCESS"),
        )
    assert status == "accepted", status
    return and_(Revocation.id.is_(None), DailyBatch.id.is_(None))


def settlement_rows(
    session: Session,
    principal: Principal,
    *,
    first: date | None = None,
    last: date | None = None,
    insutype: str | None = None,
    status: str | None = None,
    period: str | None = None,
    setl_id: str | None = None,
    before_id: int | None = None,
    limit: int,
) -> list[SettlementRow]:
    """The institution's settlements, newest first, with their batch, line and payment."""
    query = _settlement_query(session, principal)
    if first is not None:
        query = query.where(Settlement.setl_date >= first)
    if last is not None:
        query = query.where(Settlement.setl_date <= last)
    for value, column in (
        (insutype, Settlement.insutype),
        (period, Settlement.period),
        (setl_id, Settlement.setl_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(Settlement.id < before_id)
    if status is not None:
        query = query.where(_settlement_status(status))
    rows = session.execute(query.order_by(Settlement.id.desc()).limit(limit)).all()
    return [SettlementRow(*row) for row in rows]


@dataclass
class Trace:
    """A settlement's path: daily amount → line → instruction → receipt → statement → audit."""

    row: SettlementRow
    batch: DailyBatch | None
    instruction: PaymentInstruction | None
    statement: MonthlyStatement | None  # the statement of its period
    revocation_statement: MonthlyStatement | None  # of the revocation's period, if another
    audits: list[AuditItem] = field(default_factory=list)
    steps: dict[int, list[AuditStep]] = field(default_factory=dict)
    files: dict[int, list[AuditAttachment]] = field(default_factory=dict)
    amounts: dict[int, int] = field(default_factory=dict)  # each deduction as it stands

    @property
    def paid_at(self) -> datetime | None:
        """When the money reached the institution, as the bank's receipt says."""
        receipt = self.instruction.receipt if self.instruction is not None else None
        if not isinstance(receipt, dict) or not isinstance(receipt.get("paid_at"), str):
            return None
        try:
            moment = datetime.fromisoformat(receipt["paid_at"])
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None


def trace(session: Session, principal: Principal, settlement_id: int) -> Trace:
    """One settlement of the institution (404 for another's)."""
    found = session.execute(
        _settlement_query(session, principal).where(Settlement.id == settlement_id)
    ).first()
    if found is None:
        raise NotFound(f"no settlement {settlement_id}")
    row = SettlementRow(*found)
    s = row.settlement
    batch = session.get(DailyBatch, row.line.batch_id) if row.line is not None else None
    instruction = (
        session.get(PaymentInstruction, row.line.instruction_id)
        if row.line is not None and row.line.instruction_id
        else None
    )
    statement = _statement_of(session, s.fixmedins_code, s.insutype, s.period)
    revocation_statement = None
    if row.revocation is not None and row.revocation.period != s.period:
        revocation_statement = _statement_of(
            session, s.fixmedins_code, s.insutype, row.revocation.period
        )
    items = list(
        session.scalars(
            select(AuditItem).where(AuditItem.settlement_id == s.id).order_by(AuditItem.id)
        )
    )
    steps: dict[int, list[AuditStep]] = {item.id: audits.steps(session, item) for item in items}
    files = attachments.of_items(session, [item.id for item in items])
    amounts = {item.id: audits.current_amount(item) for item in items}
    return Trace(
        row, batch, instruction, statement, revocation_statement, items, steps, files, amounts
    )


def _statement_of(
    session: Session, code: str, insutype: str, period: str
) -> MonthlyStatement | None:
    return session.scalar(
        select(MonthlyStatement).where(
            MonthlyStatement.fixmedins_code == code,
            MonthlyStatement.insutype == insutype,
            MonthlyStatement.period == period,
        )
    )


# --- 日拨付到账: the institution's daily lines --------------------------------------------------

# the daily domain's payment statuses, then the two the page shows before a line is sent
LINE_STATUSES = (*values(LineStatus), "HELD", "WITHDRAWN")


@dataclass(frozen=True)
class LineRow:
    line: DailyLine
    batch: DailyBatch
    instruction: PaymentInstruction | None

    @property
    def id(self) -> int:
        return self.line.id

    @property
    def status(self) -> str:
        """The line's payment as daily.line_status names it; a line withdrawn by the monthly
        computation, or held back by the operator, is shown as such."""
        if self.line.withdrawn_at is not None:
            return "WITHDRAWN"
        if self.line.held and self.instruction is None:
            return "HELD"
        return daily.line_status(self.line, self.instruction.status if self.instruction else None)

    @property
    def reason(self) -> str | None:
        if self.instruction is None:
            return None
        if self.instruction.status == "FAILED":
            return self.instruction.failure_reason
        if self.instruction.status == "RETURNED":
            return self.instruction.return_reason
        return None

    @property
    def received_at(self) -> datetime | None:
        ok = self.instruction is not None and self.instruction.status in ("SUCCESS", "RETURNED")
        return self.instruction.result_at if ok and self.instruction else None


def _line_status(status: str) -> Any:
    instruction = PaymentInstruction.status
    if status == "WITHDRAWN":
        return DailyLine.withdrawn_at.is_not(None)
    if status == "HELD":
        return and_(DailyLine.held.is_(True), DailyLine.instruction_id.is_(None))
    if status == "NOT_SENT":
        return and_(
            DailyLine.instruction_id.is_(None),
            DailyLine.withdrawn_at.is_(None),
            DailyLine.held.is_(False),
        )
    if status == "PENDING":
        return instruction.in_(sorted(bank_rules.AWAITING_RESULT))
    assert status in ("PAID", "FAILED", "RETURNED"), status
    return instruction == {"PAID": "SUCCESS"}.get(status, status)


def line_rows(
    session: Session,
    principal: Principal,
    *,
    first: date | None = None,
    last: date | None = None,
    insutype: str | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int,
) -> list[LineRow]:
    """The institution's daily lines by business date, newest first."""
    query = (
        select(DailyLine, DailyBatch, PaymentInstruction)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id
        )
        .where(DailyLine.fixmedins_code == code_of(principal))
    )
    if first is not None:
        query = query.where(DailyBatch.business_date >= first)
    if last is not None:
        query = query.where(DailyBatch.business_date <= last)
    if insutype is not None:
        query = query.where(DailyBatch.insutype == insutype)
    if status is not None:
        query = query.where(_line_status(status))
    if before_id is not None:
        query = query.where(DailyLine.id < before_id)
    rows = session.execute(query.order_by(DailyLine.id.desc()).limit(limit)).all()
    return [LineRow(*row) for row in rows]
