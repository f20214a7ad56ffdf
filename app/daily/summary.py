"""The month-start summary of last month's daily payments (SPEC §3.8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.bank.models import PaymentInstruction
from app.clock import period_end, period_start
from app.daily.models import DailyPaymentSummary


def compile_month_summary(session: Session, month: str, *, now: datetime) -> int:
    """SPEC §3.8: last month's successful daily payments by payment date, per institution and
    insurance type (a report for the business side); compiling again replaces it."""
    session.execute(delete(DailyPaymentSummary).where(DailyPaymentSummary.month == month))
    rows = session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.requested_date,
            func.count(),
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(
            PaymentInstruction.kind == "daily",
            PaymentInstruction.status == "SUCCESS",
            PaymentInstruction.requested_date.between(period_start(month), period_end(month)),
        )
        .group_by(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.requested_date,
        )
    ).all()
    for region, insutype, code, pay_date, count, amount in rows:
        session.add(
            DailyPaymentSummary(
                month=month,
                region_code=region,
                insutype=insutype,
                fixmedins_code=code,
                pay_date=pay_date,
                payments=int(count),
                amount_fen=int(amount),
                compiled_at=now,
            )
        )
    session.flush()
    return len(rows)


def month_summary(session: Session, month: str) -> list[Any]:
    return list(
        session.scalars(
            select(DailyPaymentSummary)
            .where(DailyPaymentSummary.month == month)
            .order_by(
                DailyPaymentSummary.region_code,
                DailyPaymentSummary.insutype,
                DailyPaymentSummary.fixmedins_code,
                DailyPaymentSummary.pay_date,
            )
        )
    )
