"""Read-only aggregates the console draws and no API endpoint serves yet. No business rule:
sums of stored amounts. When the API needs one, it moves into its domain's service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.monthly.models import MonthlyStatement

PERIODS_CHARTED = 12


@dataclass(frozen=True)
class PeriodTotal:
    period: str
    insutype: str
    daily_paid_fen: int
    net_fen: int
    audit_fen: int
    statements: int


def statement_totals(
    session: Session, *, fixmedins_code: str | None, periods: int = PERIODS_CHARTED
) -> list[PeriodTotal]:
    """Per period and insurance type, the statements' daily-paid, net and audit sums, for the
    last `periods` periods that have statements (of one institution, or all), oldest first."""
    assert 0 < periods <= 60
    scope = []
    if fixmedins_code is not None:
        scope.append(MonthlyStatement.fixmedins_code == fixmedins_code)
    recent = (
        select(MonthlyStatement.period)
        .where(*scope)
        .group_by(MonthlyStatement.period)
        .order_by(MonthlyStatement.period.desc())
        .limit(periods)
    )
    rows = session.execute(
        select(
            MonthlyStatement.period,
            MonthlyStatement.insutype,
            func.sum(MonthlyStatement.daily_paid_fen),
            func.sum(MonthlyStatement.net_fen),
            func.sum(MonthlyStatement.audit_fen),
            func.count(),
        )
        .where(*scope, MonthlyStatement.period.in_(recent.scalar_subquery()))
        .group_by(MonthlyStatement.period, MonthlyStatement.insutype)
        .order_by(MonthlyStatement.period, MonthlyStatement.insutype)
    ).all()
    return [
        PeriodTotal(period, insutype, int(daily), int(net), int(audit), int(count))
        for period, insutype, daily, net, audit, count in rows
    ]
