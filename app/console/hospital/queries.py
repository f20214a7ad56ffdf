"""Reads of the hospital pages: one institution's documents, each list a bounded, indexed query
(by institution first), paged newest first (the cursor is the last row's id: rows before it).

No business rule here: a line's payment status, whether a period may be declared and the
account statement come from the domains (daily.line_status, declarations.readiness,
ledger.account_statement). A settlement's status follows API.md's definition (accepted,
batched, paid, revoked), the rule of `app.settlements.status`; the hospital's list joins the
batch, line and payment anyway (it shows them), so it reads the status from those joined rows
(`SettlementRow.status`); tests/api/test_settlement_status.py holds the API to the same rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing
from app.auth.principal import Principal
from app.bank import rules as bank_rules
from app.bank.models import BankReturn, PaymentInstruction
from app.clock import at_shanghai, business_date, period_add, period_end, period_of, period_start
from app.daily import membership
from app.daily import service as daily
from app.daily.models import DailyBatch, DailyLine
from app.errors import NotFound
from app.institutions import service as institutions
from app.institutions.models import Institution
from app.monthly import attachments, audits, declarations
from app.monthly.models import (
    AuditAttachment,
    AuditItem,
    AuditStep,
    Declaration,
    MonthlyStatement,
    ProcurementAdvance,
)
from app.monthly.rules import declaration_deadline
from app.settlements import service as settlements
from app.settlements.models import PeriodState, Revocation, Settlement
from app.workdays import service as workdays

TODO_PAYMENTS_DAYS = 60  # failed or returned payments shown on the 首页 this long
TODO_ROWS_MAX = 50
UPCOMING_PERIODS_MAX = 3  # undeclared periods whose unreconciled days are listed


def _code(principal: Principal) -> str:
    assert principal.is_hospital and principal.fixmedins_code, "hospital pages only"
    return principal.fixmedins_code


def institution(session: Session, principal: Principal) -> Institution:
    return institutions.get_institution(session, _code(principal))


def insutypes(session: Session, principal: Principal) -> list[str]:
    """The insurance types the institution is (or was) enrolled for, in order."""
    return sorted({e.insutype for e in institutions.enrollments(session, _code(principal))})


def _fund_ids(session: Session, region_code: str) -> list[int]:
    return [f.id for f in institutions.list_fund_ledgers(session) if f.region_code == region_code]


# --- 首页: receipts of a month, the to-do list ---------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    day: date  # Shanghai date of the bank's result
    kind: str  # daily | monthly | annual
    amount_fen: int


def receipts(session: Session, principal: Principal, month: str) -> list[Receipt]:
    """Money that reached the institution in a month: its instructions the bank paid
    (SUCCESS; a returned payment did not stay), by the day of the result."""
    start = at_shanghai(period_start(month), time(0))
    end = at_shanghai(period_start(period_add(month, 1)), time(0))
    rows = session.execute(
        select(PaymentInstruction.result_at, PaymentInstruction.kind, PaymentInstruction.amount_fen)
        .where(
            PaymentInstruction.fixmedins_code == _code(principal),
            PaymentInstruction.status == "SUCCESS",
            PaymentInstruction.result_at >= start,
            PaymentInstruction.result_at < end,
        )
        .order_by(PaymentInstruction.result_at)
    ).all()
    return [
        Receipt(business_date(at), kind, int(amount)) for at, kind, amount in rows if at is not None
    ]


@dataclass(frozen=True)
class Todo:
    """One thing the officer should do or know, with its deadline (None: as soon as possible)."""

    kind: str  # confirm_statement | confirm_clearing | reconcile | appeal | payment
    deadline: date | None
    title: str
    detail: str
    link: str
    amount_fen: int | None = None
    status: str | None = None
    status_kind: str | None = None


def todos(session: Session, principal: Principal, today: date) -> list[Todo]:
    """The 首页's list, by deadline (those without one first: they wait on the officer)."""
    items = (
        _documents_to_confirm(session, principal)
        + _days_to_reconcile(session, principal, today)
        + _appeals_open(session, principal, today)
        + _payments_refused(session, principal, today)
    )
    return sorted(items, key=lambda t: (t.deadline or date.min, t.kind))[:TODO_ROWS_MAX]


def _documents_to_confirm(session: Session, principal: Principal) -> list[Todo]:
    code = _code(principal)
    found = [
        Todo(
            "confirm_statement",
            None,
            f"确认月度结算单 {s.period}（{s.insutype}）",
            "核对各项金额后确认或提出异议；确认后由基金财务审批拨付。",
            f"/console/hospital/statements/{s.id}",
            s.net_fen,
            s.status,
            "statement",
        )
        for s in session.scalars(
            select(MonthlyStatement)
            .where(MonthlyStatement.fixmedins_code == code, MonthlyStatement.status == "COMPUTED")
            .order_by(MonthlyStatement.period, MonthlyStatement.insutype)
        )
    ]
    found += [
        Todo(
            "confirm_clearing",
            date(c.year + 1, 5, 31),
            f"确认年度清算 {c.year}年度（{c.insutype}）",
            f"年度清算须于 {c.year + 1}年5月31日 前拨付完毕；请尽早确认。",
            f"/console/hospital/clearings/{c.id}",
            c.actual_fen,
            c.status,
            "clearing",
        )
        for c in session.scalars(
            select(AnnualClearing)
            .where(AnnualClearing.fixmedins_code == code, AnnualClearing.status == "COMPUTED")
            .order_by(AnnualClearing.year, AnnualClearing.insutype)
        )
    ]
    return found


def _undeclared_periods(session: Session, code: str, insutype: str, today: date) -> list[str]:
    """Periods not declared yet, from the first one up to this month (at most a few)."""
    declared = session.scalar(
        select(PeriodState.declared_through).where(
            PeriodState.fixmedins_code == code, PeriodState.insutype == insutype
        )
    )
    if declared is not None:
        first = period_add(declared, 1)
    else:
        institution_row, fund = declarations.fund_of(session, code, insutype)
        start = declarations.first_period(session, institution_row.code, insutype, fund)
        if start is None:
            return []
        first = start
    periods: list[str] = []
    current = period_of(today)
    while first <= current and len(periods) < UPCOMING_PERIODS_MAX:
        periods.append(first)
        first = period_add(first, 1)
    return periods


def _days_to_reconcile(session: Session, principal: Principal, today: date) -> list[Todo]:
    """Days of undeclared periods, up to yesterday, not reconciled: due by the period's
    declaration deadline."""
    code = _code(principal)
    calendar = workdays.load(session)
    region_code = institution(session, principal).region_code
    found = []
    for insutype in insutypes(session, principal):
        for period in _undeclared_periods(session, code, insutype, today):
            last = min(period_end(period), today - timedelta(days=1))
            if last < period_start(period):
                continue
            open_days = [
                s
                for s in settlements.day_statuses(
                    session, code, insutype, period_start(period), last
                )
                if s.status != "RECONCILED"
            ]
            if not open_days:
                continue
            fund = institutions.get_fund_ledger(session, region_code, insutype)
            policy = institutions.policy_on(session, fund.id, period_end(period))
            deadline = declaration_deadline(
                period, policy.declaration_day if policy else 15, calendar
            )
            shown = "、".join(d.day.strftime("%m-%d") for d in open_days[:10])
            more = f" 等 {len(open_days)} 天" if len(open_days) > 10 else ""
            found.append(
                Todo(
                    "reconcile",
                    deadline,
                    f"对账：{period}（{insutype}）有 {len(open_days)} 天未对账",
                    f"{shown}{more}；全部对账后才能申报，申报截止 {deadline.isoformat()}。",
                    f"/console/hospital/declarations?insutype={insutype}&period={period}",
                )
            )
    return found


def _appeals_open(session: Session, principal: Principal, today: date) -> list[Todo]:
    rows = session.execute(
        select(AuditItem, Settlement.setl_id)
        .join(Settlement, Settlement.id == AuditItem.settlement_id)
        .where(
            AuditItem.fixmedins_code == _code(principal),
            AuditItem.status == "INITIAL",
            AuditItem.appeal_deadline >= today,
        )
        .order_by(AuditItem.appeal_deadline, AuditItem.id)
        .limit(TODO_ROWS_MAX)
    ).all()
    return [
        Todo(
            "appeal",
            item.appeal_deadline,
            f"审核扣款可申诉：结算 {setl_id}（规则 {item.rule_code}）",
            f"{item.reason}；不申诉的扣款将于 {item.appeal_deadline.isoformat()} 23:59 后终审。",
            f"/console/hospital/audits/{item.id}",
            audits.current_amount(item),
            item.status,
            None,
        )
        for item, setl_id in rows
    ]


PAYMENT_NEXT = {
    ("daily", "FAILED"): "日拨付失败不再重拨，该款项由当月月度结算支付。",
    ("daily", "RETURNED"): "退票金额视同未拨付，在下一次月度结算中补付。",
    ("monthly", "FAILED"): "月结算拨付失败，待基金财务重新审批后重新发送。",
    ("monthly", "RETURNED"): "退票金额在下一次结算中补付。",
    ("annual", "FAILED"): "年度清算拨付失败，待基金财务重新审批后重新发送。",
    ("annual", "RETURNED"): "退票金额在下一次结算中补付。",
}
KIND_NAMES = {"daily": "日拨付", "monthly": "月结算拨付", "annual": "年度清算拨付"}


def _payments_refused(session: Session, principal: Principal, today: date) -> list[Todo]:
    """Failed or returned payments of the last TODO_PAYMENTS_DAYS days, with the bank's
    reason (informational: the fund's side acts on them)."""
    since = at_shanghai(today - timedelta(days=TODO_PAYMENTS_DAYS), time(0))
    rows = session.scalars(
        select(PaymentInstruction)
        .where(
            PaymentInstruction.fixmedins_code == _code(principal),
            or_(
                and_(PaymentInstruction.status == "FAILED", PaymentInstruction.result_at >= since),
                and_(
                    PaymentInstruction.status == "RETURNED",
                    PaymentInstruction.returned_at >= since,
                ),
            ),
        )
        .order_by(PaymentInstruction.created_at.desc())
        .limit(TODO_ROWS_MAX)
    ).all()
    found = []
    for p in rows:
        reason = p.failure_reason if p.status == "FAILED" else p.return_reason
        found.append(
            Todo(
                "payment",
                None,
                f"{KIND_NAMES.get(p.kind, p.kind)}{'失败' if p.status == 'FAILED' else '被退票'}："
                f"{p.instruction_id}",
                f"银行原因：{reason or '（未说明）'}。{PAYMENT_NEXT.get((p.kind, p.status), '')}",
                _payment_link(p),
                p.amount_fen,
                p.status,
                "instruction",
            )
        )
    return found


def _payment_link(p: PaymentInstruction) -> str:
    if p.source_kind == "statement":
        return f"/console/hospital/statements/{p.source_id}"
    if p.source_kind == "clearing":
        return f"/console/hospital/clearings/{p.source_id}"
    return f"/console/hospital/daily?status={p.status}"


# --- 结算明细: settlements with their daily line and payment ------------------------------------

SETTLEMENT_STATUSES = ("accepted", "batched", "paid", "revoked")  # API.md GET /settlements


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
    code = _code(principal)
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

LINE_STATUSES = ("PAID", "FAILED", "RETURNED", "PENDING", "NOT_SENT", "HELD", "WITHDRAWN")


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
        .where(DailyLine.fixmedins_code == _code(principal))
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
    query = select(MonthlyStatement).where(MonthlyStatement.fixmedins_code == _code(principal))
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
            .join(Settlement, Settlement.id == AuditItem.settlement_id)
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
        .join(Settlement, Settlement.id == AuditItem.settlement_id)
        .where(AuditItem.fixmedins_code == _code(principal))
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
    if item is None or item.fixmedins_code != _code(principal):
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
            .where(AnnualClearing.fixmedins_code == _code(principal))
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


# --- 对账与申报 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    count: int
    fund_fen: int
    status: str  # RECONCILED | MISMATCHED | UNRECONCILED | NO_ACTIVITY


@dataclass
class PeriodDesk:
    insutype: str
    period: str
    days: list[Day]
    declaration: Declaration | None
    readiness: declarations.Readiness | None  # None once declared


def default_period(session: Session, principal: Principal, insutype: str, today: date) -> str:
    """The period to work on: the first undeclared one (this month at the latest)."""
    periods = _undeclared_periods(session, _code(principal), insutype, today)
    return periods[0] if periods else period_of(today)


def period_desk(
    session: Session, principal: Principal, insutype: str, period: str, today: date
) -> PeriodDesk:
    """Every day of the period with its reconciliation state now, and the declaration (or
    whether the declaration service would accept one today)."""
    code = _code(principal)
    first, last = period_start(period), period_end(period)
    states = {s.day: s for s in settlements.day_statuses(session, code, insutype, first, last)}
    days = []
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        state = states.get(day)
        if state is None:
            days.append(Day(day, 0, 0, "NO_ACTIVITY"))
        else:
            days.append(Day(day, state.held.count, state.held.fund_fen, state.status))
    declared = session.scalar(
        select(Declaration).where(
            Declaration.fixmedins_code == code,
            Declaration.insutype == insutype,
            Declaration.period == period,
        )
    )
    ready = None
    if declared is None:
        ready = declarations.readiness(
            session, code, insutype, period, actor=principal, today=today
        )
    return PeriodDesk(insutype, period, days, declared, ready)


def group_receipts(found: Sequence[Receipt]) -> dict[date, dict[str, int]]:
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for receipt in found:
        by_day[receipt.day][receipt.kind] += receipt.amount_fen
    return by_day
