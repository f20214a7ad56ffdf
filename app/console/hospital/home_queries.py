"""Reads of the hospital's 首页: the money received in a month, the to-do list (documents to
confirm, days to reconcile, audit deductions open to appeal, refused payments)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing
from app.auth.principal import Principal
from app.bank.models import PaymentInstruction
from app.clock import at_shanghai, business_date, period_add, period_end, period_start
from app.console.hospital.period_queries import undeclared_periods
from app.console.hospital.queries import code_of, institution, insutypes
from app.institutions import service as institutions
from app.monthly import audits
from app.monthly.models import AuditItem, MonthlyStatement
from app.monthly.rules import declaration_deadline
from app.settlements import service as settlements
from app.settlements.models import Settlement
from app.workdays import service as workdays

TODO_PAYMENTS_DAYS = 60  # failed or returned payments shown on the 首页 this long
TODO_ROWS_MAX = 50


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
            PaymentInstruction.fixmedins_code == code_of(principal),
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
    code = code_of(principal)
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


def _days_to_reconcile(session: Session, principal: Principal, today: date) -> list[Todo]:
    """Days of undeclared periods, up to yesterday, not reconciled: due by the period's
    declaration deadline."""
    code = code_of(principal)
    calendar = workdays.load(session)
    region_code = institution(session, principal).region_code
    found = []
    for insutype in insutypes(session, principal):
        for period in undeclared_periods(session, code, insutype, today):
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
        .join(Settlement, audits.SETTLEMENT_OF_AUDIT)
        .where(
            AuditItem.fixmedins_code == code_of(principal),
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
            PaymentInstruction.fixmedins_code == code_of(principal),
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


def group_receipts(found: Sequence[Receipt]) -> dict[date, dict[str, int]]:
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for receipt in found:
        by_day[receipt.day][receipt.kind] += receipt.amount_fen
    return by_day
