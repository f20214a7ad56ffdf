"""Deadline reports (定期调度) and the tie of the month-start summary to the statements'
daily_paid, read set-based from settlements, daily lines, payment instructions, statements
and clearings (docs/rules.md "Deadline reports")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.annual import service as annual
from app.annual.models import AnnualClearing, AnnualRule
from app.bank.models import BankReturn, PaymentInstruction
from app.clock import business_date, period_end, period_of, period_start
from app.compliance import rules
from app.daily import membership
from app.daily.models import DailyBatch, DailyLine
from app.institutions import service as institutions
from app.institutions.models import Institution
from app.monthly import deadlines
from app.monthly.models import MonthlyStatement
from app.settlements.models import Revocation, Settlement
from app.workdays import service as workdays

PAID = ("SUCCESS", "RETURNED")


@dataclass(frozen=True)
class Scope:
    region_code: str | None = None
    insutype: str | None = None
    fixmedins_code: str | None = None

    def where(self, region: Any, insutype: Any, code: Any) -> list[Any]:
        conditions = []
        if self.region_code is not None:
            conditions.append(region == self.region_code)
        if self.insutype is not None:
            conditions.append(insutype == self.insutype)
        if self.fixmedins_code is not None:
            conditions.append(code == self.fixmedins_code)
        return conditions


def _settlement_payments(session: Session, scope: Scope, *conditions: Any) -> Any:
    """Each batched settlement (not revoked before batching) with the daily line and payment
    instruction that carried its daily amount (outer joins: None while not sent)."""
    return (
        select(
            Settlement.region_code,
            Settlement.insutype,
            Settlement.fixmedins_code,
            Settlement.setl_id,
            Settlement.setl_date,
            Settlement.period,
            Settlement.daily_amount_fen,
            PaymentInstruction.instruction_id,
            PaymentInstruction.status,
            PaymentInstruction.requested_date,
        )
        .select_from(Settlement)
        .outerjoin(
            DailyBatch,
            membership.holds(),
        )
        .outerjoin(
            DailyLine,
            and_(
                DailyLine.batch_id == DailyBatch.id,
                DailyLine.fixmedins_code == Settlement.fixmedins_code,
            ),
        )
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id
        )
        .where(
            ~exists().where(
                Revocation.settlement_id == Settlement.id, Revocation.batched.is_(False)
            ),
            Settlement.daily_amount_fen > 0,
            *scope.where(Settlement.region_code, Settlement.insutype, Settlement.fixmedins_code),
            *conditions,
        )
    )


def _paid_on(status: str | None, requested: date | None) -> date | None:
    return requested if status in PAID else None


# --- T+1 compliance ------------------------------------------------------------------------


@dataclass
class T1Row:
    region_code: str
    insutype: str
    month: str
    tally: rules.Tally = field(default_factory=rules.Tally)


def t1_compliance(session: Session, month: str, scope: Scope) -> list[T1Row]:
    """Per fund ledger, the settlements dated in `month` with a daily amount: paid on their
    T+1 pay date (the first working day after the settlement date), later, or not paid."""
    calendar = workdays.load(session)
    rows: dict[tuple[str, str], T1Row] = {}
    query = _settlement_payments(
        session,
        scope,
        Settlement.setl_date.between(period_start(month), period_end(month)),
    )
    for (
        region,
        insutype,
        _code,
        _setl,
        setl_date,
        _period,
        amount,
        _i,
        status,
        requested,
    ) in session.execute(query):
        row = rows.setdefault((region, insutype), T1Row(region, insutype, month))
        outcome = rules.timeliness(
            _paid_on(status, requested), rules.t1_target(setl_date, calendar)
        )
        row.tally.add(outcome, 1, int(amount))
    return [rows[key] for key in sorted(rows)]


# --- monthly: 20 working days from the computation date; 5 after approval ----------------------


@dataclass(frozen=True)
class MonthlyRow:
    region_code: str
    insutype: str
    fixmedins_code: str
    period: str
    status: str
    net_fen: int
    computation_date: date
    settlement_deadline: date
    approved_on: date | None
    payment_deadline: date | None
    paid_on: date | None  # the payment date, or the approval date when nothing was to pay
    within_20: str  # on_time | late | unpaid
    within_5: str | None  # None before the approval


DONE_WITHOUT_PAYMENT = ("SETTLED", "RECEIVABLE")


def monthly_compliance(session: Session, period: str, scope: Scope) -> list[MonthlyRow]:
    calendar = workdays.load(session)
    query = (
        select(MonthlyStatement, PaymentInstruction.status, PaymentInstruction.requested_date)
        .outerjoin(
            PaymentInstruction,
            PaymentInstruction.instruction_id == MonthlyStatement.instruction_id,
        )
        .where(
            MonthlyStatement.period == period,
            *scope.where(
                MonthlyStatement.region_code,
                MonthlyStatement.insutype,
                MonthlyStatement.fixmedins_code,
            ),
        )
        .order_by(
            MonthlyStatement.region_code,
            MonthlyStatement.insutype,
            MonthlyStatement.fixmedins_code,
        )
    )
    days: dict[tuple[str, str], int] = {}
    found = []
    for statement, status, requested in session.execute(query):
        key = (statement.region_code, statement.insutype)
        if key not in days:
            fund = institutions.get_fund_ledger(session, *key)
            policy = institutions.policy_on(session, fund.id, period_end(period))
            days[key] = policy.declaration_day if policy else 15
        computed_from = deadlines.rules.computation_date(period, days[key], calendar)
        limit = deadlines.settlement_deadline(period, days[key], calendar)
        approved_on = business_date(statement.approved_at) if statement.approved_at else None
        paid_on = _paid_on(status, requested)
        if paid_on is None and statement.status in DONE_WITHOUT_PAYMENT:
            paid_on = approved_on
        payment_limit = deadlines.payment_deadline(approved_on, calendar) if approved_on else None
        found.append(
            MonthlyRow(
                region_code=statement.region_code,
                insutype=statement.insutype,
                fixmedins_code=statement.fixmedins_code,
                period=period,
                status=statement.status,
                net_fen=statement.net_fen,
                computation_date=computed_from,
                settlement_deadline=limit,
                approved_on=approved_on,
                payment_deadline=payment_limit,
                paid_on=paid_on,
                within_20=rules.timeliness(paid_on, limit),
                within_5=(
                    rules.timeliness(paid_on, payment_limit) if payment_limit is not None else None
                ),
            )
        )
    return found


# --- annual: cleared and paid by the deadline (31 May) ---------------------------------------


@dataclass(frozen=True)
class AnnualRow:
    region_code: str
    insutype: str
    fixmedins_code: str
    year: int
    status: str  # the clearing's status, or NOT_CLEARED
    actual_fen: int | None
    deadline: date
    done_on: date | None
    outcome: str


NOT_CLEARED = "NOT_CLEARED"


def annual_compliance(session: Session, year: int, scope: Scope) -> list[AnnualRow]:
    rule = session.get(AnnualRule, year)
    if rule is None:
        return []
    query = (
        select(AnnualClearing, PaymentInstruction.status, PaymentInstruction.requested_date)
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == AnnualClearing.instruction_id
        )
        .where(
            AnnualClearing.year == year,
            *scope.where(
                AnnualClearing.region_code, AnnualClearing.insutype, AnnualClearing.fixmedins_code
            ),
        )
    )
    found = []
    for clearing, status, requested in session.execute(query):
        done_on = _paid_on(status, requested)
        if done_on is None and clearing.status in DONE_WITHOUT_PAYMENT:
            done_on = business_date(clearing.approved_at) if clearing.approved_at else None
        found.append(
            AnnualRow(
                clearing.region_code,
                clearing.insutype,
                clearing.fixmedins_code,
                year,
                clearing.status,
                clearing.actual_fen,
                rule.deadline,
                done_on,
                rules.timeliness(done_on, rule.deadline),
            )
        )
    regions = dict(session.execute(select(Institution.code, Institution.region_code)).all())
    for code, insutype in annual.never_cleared(session, year):
        region = regions.get(code, "")
        if not all(scope.where(region, insutype, code)):
            continue
        found.append(
            AnnualRow(
                region, insutype, code, year, NOT_CLEARED, None, rule.deadline, None, "unpaid"
            )
        )
    return sorted(found, key=lambda r: (r.region_code, r.insutype, r.fixmedins_code))


# --- the month-start summary against the statements' daily_paid (item 6) ----------------------


@dataclass
class TieRow:
    region_code: str
    insutype: str
    fixmedins_code: str
    summary_fen: int = 0  # successful daily payments submitted in the month
    daily_paid_fen: int = 0  # the statements of the period (= month)
    statement: bool = False  # the period's statement exists
    explained_fen: int = 0

    @property
    def difference_fen(self) -> int:
        return self.summary_fen - self.daily_paid_fen

    @property
    def unexplained_fen(self) -> int:
        return self.difference_fen - self.explained_fen


@dataclass(frozen=True)
class TieItem:
    region_code: str
    insutype: str
    fixmedins_code: str
    setl_id: str | None
    period: str | None
    paid_on: date | None
    instruction_id: str | None
    amount_fen: int  # signed: what it adds to summary − daily_paid
    reason: str


def daily_paid_tie(
    session: Session, month: str, scope: Scope
) -> tuple[list[TieRow], list[TieItem]]:
    """The month-start summary of `month` (successful daily payments by payment date) against
    the statements' `daily_paid` of the period `month` (by settlement period): per fund ledger
    and institution, both sides and every settlement that counts on one side only, with its
    reason; what those do not explain is listed as `other`."""
    rows: dict[tuple[str, str, str], TieRow] = {}

    def row(region: str, insutype: str, code: str) -> TieRow:
        return rows.setdefault((region, insutype, code), TieRow(region, insutype, code))

    first, last = period_start(month), period_end(month)
    for region, insutype, code, amount in session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(
            PaymentInstruction.kind == "daily",
            PaymentInstruction.status == "SUCCESS",
            PaymentInstruction.requested_date.between(first, last),
            *scope.where(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                PaymentInstruction.fixmedins_code,
            ),
        )
        .group_by(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
        )
    ):
        row(region, insutype, code).summary_fen += int(amount)
    for region, insutype, code, amount in session.execute(
        select(
            MonthlyStatement.region_code,
            MonthlyStatement.insutype,
            MonthlyStatement.fixmedins_code,
            MonthlyStatement.daily_paid_fen,
        ).where(
            MonthlyStatement.period == month,
            *scope.where(
                MonthlyStatement.region_code,
                MonthlyStatement.insutype,
                MonthlyStatement.fixmedins_code,
            ),
        )
    ):
        found = row(region, insutype, code)
        found.daily_paid_fen += int(amount)
        found.statement = True
    absorbed = set(
        session.scalars(
            select(BankReturn.instruction_id).where(
                BankReturn.period == month, BankReturn.taken_by.startswith("absorbed:")
            )
        )
    )
    items: list[TieItem] = []
    query = _settlement_payments(
        session,
        scope,
        (Settlement.period == month) | PaymentInstruction.requested_date.between(first, last),
    ).order_by(Settlement.fixmedins_code, Settlement.setl_date, Settlement.setl_id)
    for (
        region,
        insutype,
        code,
        setl_id,
        _day,
        period,
        amount,
        instruction,
        status,
        requested,
    ) in session.execute(query):
        current = row(region, insutype, code)
        signed = 0
        if status == "RETURNED":
            # the summary leaves a returned payment out; the period's daily_paid keeps it
            # unless its statement absorbed the return
            reason = rules.RETURNED if period == month and instruction not in absorbed else None
            signed = -int(amount)
        else:
            pay_month = period_of(requested) if status == "SUCCESS" and requested else None
            reason = rules.tie_reason(period, month, pay_month)
            signed = int(amount) if reason == rules.EARLIER_PERIOD else -int(amount)
        if reason in (rules.PAID_NEXT_MONTH, rules.RETURNED) and not current.statement:
            reason = None  # no statement yet: the period's daily_paid counts nothing
        if reason is None:
            continue
        current.explained_fen += signed
        items.append(
            TieItem(
                region,
                insutype,
                code,
                setl_id,
                period,
                _paid_on(status, requested),
                instruction,
                signed,
                reason,
            )
        )
    for key in sorted(rows):
        current = rows[key]
        if current.unexplained_fen:
            reason = rules.OTHER if current.statement else rules.NOT_COMPUTED
            items.append(TieItem(*key, None, month, None, None, current.unexplained_fen, reason))
    return [rows[key] for key in sorted(rows)], items


def summary_rows(rows: Sequence[TieRow]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for current in rows:
        totals["summary_fen"] += current.summary_fen
        totals["daily_paid_fen"] += current.daily_paid_fen
        totals["explained_fen"] += current.explained_fen
    return dict(totals)
