"""Monthly statements (SPEC §4): the payable-document flow (confirm, dispute, recompute,
approve, payment: `app.payables`) with the statement's adapter, its posting at approval
(SPEC §6), the list, the scenario's rows and the deadline alerts. The computation is in
`computation`, the offsets of the receivable in `offsets`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.bank import rules as bank_rules
from app.clock import business_date, period_end
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution
from app.ledger import entries
from app.ledger import service as ledger
from app.money import yuan
from app.monthly import computation, deadlines
from app.monthly.models import Declaration, MonthlyStatement
from app.payables import service as payables
from app.payables.machine import UNPAID, DocumentStatus
from app.workdays.rules import WorkCalendar


def _post_approval(session: Session, statement: MonthlyStatement, now: datetime) -> None:
    draft = entries.statement_approval(
        statement_id=statement.id,
        version=statement.version,
        region_code=statement.region_code,
        insutype=statement.insutype,
        fixmedins_code=statement.fixmedins_code,
        period=statement.period,
        audit_fen=statement.audit_fen,
        deposit_fen=statement.deposit_fen,
        procurement_fen=statement.procurement_fen,
        offset_fen=statement.offset_fen,
        net_fen=statement.net_fen,
        effective_at=now,
    )
    if draft is not None:
        ledger.post(session, draft, now=now)


class StatementKind(payables.Kind[MonthlyStatement]):
    """Monthly statements in the payable-document flow: the net is paid, under the monthly
    instruction id of the period."""

    name, model, amount = "statement", MonthlyStatement, "net_fen"

    def components(self, statement: MonthlyStatement) -> dict[str, Any]:
        return {
            "fund_pay": statement.fund_pay_fen,
            "deposit": statement.deposit_fen,
            "audit": statement.audit_fen,
            "daily_paid": statement.daily_paid_fen,
            "procurement": statement.procurement_fen,
            "returned": statement.returned_fen,
            "offset": statement.offset_fen,
            "net": statement.net_fen,
        }

    def post_approval(self, session: Session, statement: MonthlyStatement, now: datetime) -> None:
        _post_approval(session, statement, now)

    def recompute(
        self, session: Session, statement: MonthlyStatement, now: datetime, by: str
    ) -> None:
        computation.recompute(session, statement, now, by)

    def payment(self, statement: MonthlyStatement, fund: FundLedger) -> payables.Payment:
        period, code = statement.period, statement.fixmedins_code
        first_id = bank_rules.monthly_instruction_id(period, fund.region_code, fund.insutype, code)
        return payables.Payment(first_id, "monthly", f"医保基金月结算 {period}", period)


FLOW = payables.Flow(StatementKind())


# --- reading -----------------------------------------------------------------------------------


def list_statements(
    session: Session,
    *,
    fixmedins_code: str | None,
    insutype: str | None,
    period: str | None,
    status: str | None,
    region_code: str | None,
    after_id: int | None,
    limit: int,
) -> list[MonthlyStatement]:
    return FLOW.documents(
        session,
        after_id=after_id,
        limit=limit,
        fixmedins_code=fixmedins_code,
        insutype=insutype,
        period=period,
        status=status,
        region_code=region_code,
    )


def scenario_rows(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(MonthlyStatement)).all()
    result = [
        {
            "period": s.period,
            "region": s.region_code,
            "insutype": s.insutype,
            "fixmedins_code": s.fixmedins_code,
            "fund_pay": yuan(s.fund_pay_fen),
            "deposit": yuan(s.deposit_fen),
            "ratio_amount": yuan(s.ratio_amount_fen),
            "audit": yuan(s.audit_fen),
            "daily_paid": yuan(s.daily_paid_fen),
            "procurement": yuan(s.procurement_fen),
            "returned": yuan(s.returned_fen),
            "offset": yuan(s.offset_fen),
            "net": yuan(s.net_fen),
            "status": s.status,
        }
        for s in rows
    ]
    return sorted(
        result, key=lambda r: (r["period"], r["region"], r["insutype"], r["fixmedins_code"])
    )


def overdue(session: Session, *, today: date, calendar: WorkCalendar) -> list[tuple[str, str, str]]:
    """Deadline alerts of the monthly side (SPEC §4, docs/rules.md "Deadline alerts"), on the
    declaration day of the fund ledger's policy for the period, in Shanghai business dates:
    - `statement_not_computed`: a declared period uncomputed after its settlement deadline
      (the 20th working day after its computation date);
    - `statement_not_confirmed`: a statement still awaiting the hospital's confirmation (or
      disputed) when five working days or fewer are left before that deadline;
    - `statement_not_paid`: an approved payment unpaid after the 5th working day after the
      (Shanghai) date of its approval."""
    found: list[tuple[str, str, str]] = []
    days: dict[tuple[str, str, str], int] = {}
    region_of = dict(session.execute(select(Institution.code, Institution.region_code)).all())

    def declaration_day(code: str, insutype: str, period: str) -> int:
        key = (region_of.get(code, ""), insutype, period)
        if key not in days:
            fund = institutions.find_fund_ledger(session, key[0], insutype)
            policy = institutions.policy_on(session, fund.id, period_end(period)) if fund else None
            days[key] = policy.declaration_day if policy else 15
        return days[key]

    uncomputed = session.execute(
        select(Declaration.fixmedins_code, Declaration.insutype, Declaration.period).where(
            ~exists().where(
                MonthlyStatement.fixmedins_code == Declaration.fixmedins_code,
                MonthlyStatement.insutype == Declaration.insutype,
                MonthlyStatement.period == Declaration.period,
            )
        )
    ).all()
    for code, insutype, period in uncomputed:
        due = deadlines.settlement_deadline(
            period, declaration_day(code, insutype, period), calendar
        )
        if deadlines.past(due, today):
            found.append(
                (
                    "statement_not_computed",
                    f"{code}:{insutype}:{period}",
                    f"{period} 月度结算应于 {due} 前完成，尚未计算",
                )
            )
    unconfirmed = session.execute(
        select(MonthlyStatement.fixmedins_code, MonthlyStatement.insutype, MonthlyStatement.period)
        .where(
            MonthlyStatement.status.in_(
                [DocumentStatus.COMPUTED.value, DocumentStatus.DISPUTED.value]
            )
        )
        .order_by(MonthlyStatement.id)
    ).all()
    for code, insutype, period in unconfirmed:
        limit = deadlines.confirmation_late(
            period, declaration_day(code, insutype, period), today, calendar
        )
        if limit is not None:
            found.append(
                (
                    "statement_not_confirmed",
                    f"{code}:{insutype}:{period}",
                    f"{period} 月度结算单尚未经医院确认，结算期限 {limit}",
                )
            )
    unpaid = session.scalars(
        select(MonthlyStatement)
        .where(
            MonthlyStatement.status.in_([status.value for status in UNPAID]),
            MonthlyStatement.net_fen > 0,
        )
        .order_by(MonthlyStatement.id)
    ).all()
    for statement in unpaid:
        approved = statement.approved_at
        if approved is None:
            continue
        approved_on = business_date(approved)
        due = deadlines.payment_deadline(approved_on, calendar)
        if deadlines.past(due, today):
            found.append(
                (
                    "statement_not_paid",
                    f"{statement.fixmedins_code}:{statement.insutype}:{statement.period}",
                    f"{approved_on} 审批，应于 {due} 前支付，尚未支付成功",
                )
            )
    return found
