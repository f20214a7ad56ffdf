"""Monthly declarations (月度申报): in order, by the deadline, reconciled, with lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import business_date, period_add, period_end, period_of, period_start
from app.errors import FieldError, Invalid, NotFound
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution
from app.monthly import rules
from app.monthly.models import Declaration, PeriodReopening
from app.settlements import service as settlements
from app.settlements.models import PeriodState, Revocation, Settlement, SettlementList
from app.trail import service as trail
from app.workdays import service as workdays

UNRECONCILED_REPORTED_MAX = 31


def fund_of(session: Session, code: str, insutype: str) -> tuple[Institution, FundLedger]:
    institution = institutions.get_institution(session, code)
    fund = institutions.find_fund_ledger(session, institution.region_code, insutype)
    if fund is None:
        raise Invalid.field("insutype", "fund_ledger_exists", f"no fund ledger {insutype} here")
    return institution, fund


def first_period(session: Session, code: str, insutype: str, fund: FundLedger) -> str | None:
    """The first period an institution declares: from its enrollment and the fund's start."""
    spans = institutions.enrollment_spans(session, code, insutype)
    versions = institutions.policies(session, fund.id)
    starts = [start for start, _ in spans]
    switched_on = [v.effective_from for v in versions if v.active]
    if not starts or not switched_on:
        return None
    return period_of(max(min(starts), min(switched_on)))


def get(session: Session, code: str, insutype: str, period: str) -> Declaration:
    row = session.scalar(
        select(Declaration).where(
            Declaration.fixmedins_code == code,
            Declaration.insutype == insutype,
            Declaration.period == period,
        )
    )
    if row is None:
        raise NotFound(f"{code} has not declared {insutype} {period}")
    return row


@dataclass(frozen=True)
class Readiness:
    """Whether a period may be declared now, and why not: the rule `declare` applies, read
    without locks (a page shows it; the declaration itself checks again under its lock)."""

    period: str
    deadline: date  # declare by the end of this day (on or after the configured day of M+1)
    late: bool  # after the deadline
    reopened: bool  # an operator reopened the period after its deadline
    unreconciled: list[date]  # days of the period (or of its settlements) not reconciled now
    refusals: list[FieldError]  # empty: the declaration would be accepted

    @property
    def acceptable(self) -> bool:
        return not self.refusals


def readiness(
    session: Session, code: str, insutype: str, period: str, *, actor: Principal, today: date
) -> Readiness:
    """Would `declare` accept this period today? (Declared already: it would return the first
    declaration; the caller looks that up.)"""
    if actor.is_hospital and actor.fixmedins_code != code:
        raise NotFound(f"no institution {code!r}")
    institution, fund = fund_of(session, code, insutype)
    return _readiness(session, institution, fund, insutype, period, today)


def _readiness(
    session: Session,
    institution: Institution,
    fund: FundLedger,
    insutype: str,
    period: str,
    today: date,
) -> Readiness:
    code = institution.code
    policy = institutions.policy_on(session, fund.id, period_end(period))
    declaration_day = policy.declaration_day if policy else 15
    calendar = workdays.load(session)
    errors, unreconciled = _refusals(session, institution, fund, insutype, period, today)
    reopened = session.scalar(
        select(PeriodReopening.id).where(
            PeriodReopening.fixmedins_code == code,
            PeriodReopening.insutype == insutype,
            PeriodReopening.period == period,
        )
    )
    deadline = rules.declaration_deadline(period, declaration_day, calendar)
    late = today > deadline
    if late and reopened is None:
        errors.append(
            FieldError(
                "period",
                "declaration_deadline",
                f"the deadline of {period} has passed; an operator can reopen it",
            )
        )
    return Readiness(period, deadline, late, reopened is not None, unreconciled, errors)


def declare(
    session: Session, code: str, insutype: str, period: str, *, actor: Principal, now: datetime
) -> tuple[Declaration, bool]:
    """Declare a period; declaring it again returns the first declaration."""
    if actor.is_hospital and actor.fixmedins_code != code:
        raise NotFound(f"no institution {code!r}")
    institution, fund = fund_of(session, code, insutype)
    states = settlements.lock_period_states(session, [(code, insutype)], exclusive=True)
    existing = session.scalar(
        select(Declaration).where(
            Declaration.fixmedins_code == code,
            Declaration.insutype == insutype,
            Declaration.period == period,
        )
    )
    if existing is not None:
        return existing, False
    ready = _readiness(session, institution, fund, insutype, period, business_date(now))
    if ready.refusals:
        raise Invalid("; ".join(error.message for error in ready.refusals), errors=ready.refusals)
    late = ready.late
    declaration = Declaration(
        fixmedins_code=code,
        insutype=insutype,
        period=period,
        declared_at=now,
        declared_by=actor.name,
        late=late,
    )
    session.add(declaration)
    previous = states[(code, insutype)]
    assert previous is None or previous < period
    session.execute(
        update(PeriodState)
        .where(PeriodState.fixmedins_code == code, PeriodState.insutype == insutype)
        .values(declared_through=period)
    )
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="declaration.create",
        entity="institution",
        key=code,
        before=None,
        after={"insutype": insutype, "period": period, "late": late},
        now=now,
    )
    return declaration, True


def _refusals(
    session: Session,
    institution: Institution,
    fund: FundLedger,
    insutype: str,
    period: str,
    today: date,
) -> tuple[list[FieldError], list[date]]:
    """The refusals other than the deadline's, and the days not reconciled."""
    code = institution.code
    errors: list[FieldError] = []
    if today < period_start(period_add(period, 1)):
        return [FieldError("period", "period_ended", f"{period} has not ended")], []
    first = first_period(session, code, insutype, fund)
    if first is None or period < first:
        return [FieldError("period", "period_enrolled", f"{code} is not enrolled for {period}")], []
    if period > first:
        previous = period_add(period, -1)
        declared = session.scalar(
            select(Declaration.id).where(
                Declaration.fixmedins_code == code,
                Declaration.insutype == insutype,
                Declaration.period == previous,
            )
        )
        if declared is None:
            errors.append(
                FieldError("period", "periods_in_order", f"{previous} must be declared first")
            )
    days = _days_to_reconcile(session, code, insutype, period)
    unreconciled = settlements.unreconciled_days(session, code, insutype, days)
    if unreconciled:
        shown = ", ".join(str(d) for d in unreconciled[:UNRECONCILED_REPORTED_MAX])
        errors.append(FieldError("period", "days_reconciled", f"days not reconciled: {shown}"))
    if fund.requires_settlement_list:
        missing = session.scalar(
            select(func.count())
            .select_from(Settlement)
            .outerjoin(SettlementList, SettlementList.settlement_id == Settlement.id)
            .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
            .where(
                Settlement.fixmedins_code == code,
                Settlement.insutype == insutype,
                Settlement.period == period,
                SettlementList.settlement_id.is_(None),
                Revocation.id.is_(None),
            )
        )
        if missing:
            errors.append(
                FieldError(
                    "period",
                    "settlement_lists",
                    f"{missing} settlements of {period} have no settlement list (4101A)",
                )
            )
    return errors, unreconciled


def _days_to_reconcile(session: Session, code: str, insutype: str, period: str) -> list[date]:
    """Every day of M, and the date of every settlement assigned to M."""
    first, last = period_start(period), period_end(period)
    days = [date.fromordinal(d) for d in range(first.toordinal(), last.toordinal() + 1)]
    assigned = session.scalars(
        select(Settlement.setl_date)
        .where(
            Settlement.fixmedins_code == code,
            Settlement.insutype == insutype,
            Settlement.period == period,
            (Settlement.setl_date < first) | (Settlement.setl_date > last),
        )
        .distinct()
    )
    return sorted(set(days) | set(assigned))


def reopen(
    session: Session,
    code: str,
    insutype: str,
    period: str,
    reason: str,
    *,
    actor: Principal,
    now: datetime,
) -> PeriodReopening:
    """Let an institution declare a period after its deadline (idempotent)."""
    fund_of(session, code, insutype)
    existing = session.scalar(
        select(PeriodReopening).where(
            PeriodReopening.fixmedins_code == code,
            PeriodReopening.insutype == insutype,
            PeriodReopening.period == period,
        )
    )
    if existing is not None:
        return existing
    row = PeriodReopening(
        fixmedins_code=code,
        insutype=insutype,
        period=period,
        reason=reason,
        reopened_at=now,
        reopened_by=actor.name,
    )
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="period.reopen",
        entity="institution",
        key=code,
        before=None,
        after={"insutype": insutype, "period": period, "reason": reason},
        now=now,
    )
    return row


def declared(session: Session, code: str, insutype: str) -> list[str]:
    return list(
        session.scalars(
            select(Declaration.period)
            .where(Declaration.fixmedins_code == code, Declaration.insutype == insutype)
            .order_by(Declaration.period)
        )
    )
