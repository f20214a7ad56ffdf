"""Reads of the hospital's 对账与申报 desk: the periods still to declare, each day's reconciliation
state and the declaration (or whether one would be accepted today)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import period_add, period_end, period_of, period_start
from app.console.hospital.queries import code_of
from app.monthly import declarations
from app.monthly.models import Declaration
from app.settlements import service as settlements
from app.settlements.models import PeriodState

UPCOMING_PERIODS_MAX = 3  # undeclared periods whose unreconciled days are listed


def undeclared_periods(session: Session, code: str, insutype: str, today: date) -> list[str]:
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
    periods = undeclared_periods(session, code_of(principal), insutype, today)
    return periods[0] if periods else period_of(today)


def period_desk(
    session: Session, principal: Principal, insutype: str, period: str, today: date
) -> PeriodDesk:
    """Every day of the period with its reconciliation state now, and the declaration (or
    whether the declaration service would accept one today)."""
    code = code_of(principal)
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
