"""Every read of the office pages, in one adapter: the domain services the API reads through,
plus a few plain selects the API has no endpoint for (named here). No business rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.alerts.models import Alert
from app.annual.models import Assessment
from app.auth import service as auth
from app.auth.models import ApiToken, User
from app.clock import Clock
from app.institutions import rules as institution_rules
from app.institutions import service as institutions
from app.institutions.models import Enrollment, FundLedger, Institution, PolicyVersion, Region
from app.ledger import search
from app.ledger import service as ledger
from app.ledger.models import JournalEntry
from app.ledger.rules import Line
from app.monthly import advances, audits
from app.monthly.models import AuditItem, AuditStep, ProcurementAdvance
from app.scheduling import service as scheduling
from app.scheduling.models import JobRun
from app.trail import service as trail
from app.trail.models import AuditEvent
from app.workdays import service as workdays
from app.workdays.models import CalendarOverride, CalendarYear
from jobs import manual
from jobs.registry import JOBS

ASSESSMENTS_MAX = 10_000
USERS_MAX = 1000
ADVANCES_MAX = 500
RUNS_SHOWN = 10
OPEN_ALERTS_MAX = 500
ACCOUNTS_MAX = search.ACCOUNTS_MAX
ENTRIES_MAX = search.ENTRIES_MAX

# --- reference data ---------------------------------------------------------------------------


def regions(session: Session) -> list[Region]:
    return institutions.list_regions(session)


def institution_page(
    session: Session, *, region_code: str | None, after_code: str | None, limit: int
) -> list[Institution]:
    return institutions.list_institutions(
        session, region_code=region_code, after_code=after_code, limit=limit, only_code=None
    )


def institution(session: Session, code: str) -> Institution:
    return institutions.get_institution(session, code)


def enrollments(session: Session, code: str) -> list[Enrollment]:
    return list(institutions.enrollments(session, code))


def fund_ledgers(session: Session) -> list[FundLedger]:
    return institutions.list_fund_ledgers(session)


def fund_ledger(session: Session, region_code: str, insutype: str) -> FundLedger:
    return institutions.get_fund_ledger(session, region_code, insutype)


def policy_versions(session: Session, fund: FundLedger) -> list[PolicyVersion]:
    return institutions.policy_versions(session, fund.id)


def policy_in_force(session: Session, fund: FundLedger, on: date) -> Any:
    return institutions.policy_on(session, fund.id, on)


def switched_on_from(session: Session, fund: FundLedger) -> date | None:
    return institution_rules.switched_on_from(institutions.policies(session, fund.id))


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarYearView:
    year: int
    days: list[dict[str, Any]]  # date, working, official_working, override
    notes: dict[date, str]  # override notes
    confirmation: CalendarYear | None


def calendar_year(session: Session, year: int) -> CalendarYearView:
    notes = dict(
        session.execute(
            select(CalendarOverride.day, CalendarOverride.note).where(
                CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31)
            )
        ).all()
    )
    return CalendarYearView(
        year=year,
        days=workdays.year_days(session, year),
        notes=notes,
        confirmation=session.get(CalendarYear, year),
    )


def year_confirmation(session: Session, year: int) -> CalendarYear | None:
    return session.get(CalendarYear, year)


# --- smart audit, advances, assessments ---------------------------------------------------------


def audit_page(
    session: Session,
    *,
    fixmedins_code: str | None,
    status: str | None,
    period: str | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[AuditItem, str]]:
    return audits.list_items(
        session,
        fixmedins_code=fixmedins_code,
        status=status,
        period=period,
        after_id=after_id,
        limit=limit,
    )


def audit_item(session: Session, code: str, setl_id: str, rule_code: str) -> AuditItem:
    return audits.get(session, code, setl_id, rule_code)


def audit_steps(session: Session, item: AuditItem) -> list[AuditStep]:
    return audits.steps(session, item)


def current_amount(item: AuditItem) -> int:
    return audits.current_amount(item)


def count_audits(session: Session, status: str) -> int:
    """How many results are in a status (the operator's 首页: appeals waiting)."""
    return int(
        session.scalar(
            select(func.count()).select_from(AuditItem).where(AuditItem.status == status)
        )
        or 0
    )


def advance_list(
    session: Session, *, fixmedins_code: str | None, period: str | None
) -> list[ProcurementAdvance]:
    return advances.list_advances(session, code=fixmedins_code, period=period, limit=ADVANCES_MAX)


def assessment_list(session: Session, *, year: int | None) -> list[Assessment]:
    """The API's list (GET /annual/assessments): by year, institution, insurance type."""
    query = (
        select(Assessment)
        .order_by(Assessment.year, Assessment.fixmedins_code, Assessment.insutype)
        .limit(ASSESSMENTS_MAX)
    )
    if year is not None:
        query = query.where(Assessment.year == year)
    return list(session.scalars(query))


# --- jobs and alerts --------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    name: str
    at: str
    working_days_only: bool
    past_dates: bool
    last_run: JobRun | None
    next_run: datetime
    latest_date: date  # the latest business date it may run for now


def job_list(session: Session, clock: Clock) -> list[JobView]:
    """The API's list (GET /jobs), with the date each job may run for now."""
    calendar = workdays.load(session)
    now = clock.now()
    return [
        JobView(
            name=spec.name,
            at=spec.at.strftime("%H:%M"),
            working_days_only=spec.working_days_only,
            past_dates=spec.past_dates,
            last_run=scheduling.last_run(session, spec.name),
            next_run=spec.next_run(now, calendar),
            latest_date=manual.latest_date(spec.name, clock),
        )
        for spec in sorted(JOBS.values(), key=lambda s: s.at)
    ]


def latest_date(name: str, clock: Clock) -> date:
    return manual.latest_date(name, clock)


def job_names() -> list[str]:
    return sorted(JOBS)


def recent_runs(session: Session, name: str | None) -> list[JobRun]:
    return scheduling.runs(session, name, RUNS_SHOWN)


def alert_page(
    session: Session, *, kind: str | None, open_only: bool, after_id: int | None, limit: int
) -> list[Alert]:
    return alerts.list_alerts(
        session, kind=kind, open_only=open_only, after_id=after_id, limit=limit
    )


def count_unacknowledged(session: Session) -> int:
    """Open alerts nobody has acknowledged yet (the operator's 首页 and inbox)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.resolved_at.is_(None), Alert.acknowledged_at.is_(None))
        )
        or 0
    )


# --- the ledger (auditor) ---------------------------------------------------------------------


def balances(session: Session, **filters: Any) -> list[ledger.AccountBalance]:
    """A page of accounts with balances (current or as of a time); see search.balances_page."""
    return search.balances_page(session, **filters)


def trial_balance(
    session: Session, *, region_code: str | None, insutype: str | None, as_of: datetime | None
) -> ledger.TrialBalance:
    """The trial balance of the accounts with postings (有发生额): an institution's accounts
    opened at its enrolment and never posted to are not listed (nor counted)."""
    return ledger.trial_balance(
        session, region_code=region_code, insutype=insutype, as_of=as_of, posted_only=True
    )


def entries(session: Session, **filters: Any) -> list[JournalEntry]:
    return search.find_entries(session, **filters)


def entry(session: Session, entry_id: int) -> JournalEntry:
    return ledger.get_entry(session, entry_id)


def entry_lines(session: Session, entry_ids: list[int]) -> dict[int, list[Line]]:
    return ledger.entry_lines(session, entry_ids)


def verify(session: Session) -> ledger.VerifyReport:
    """`fundledger ledger verify`: every balance and hash chain recomputed (a read)."""
    return ledger.verify(session)


def trail_page(
    session: Session,
    *,
    entity: str | None,
    key: str | None,
    action: str | None,
    after_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    return trail.events(
        session, entity=entity, key=key, action=action, after_id=after_id, limit=limit
    )


# --- users and tokens -------------------------------------------------------------------------


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name).limit(USERS_MAX)))


def user(session: Session, name: str) -> User:
    return auth.get_user(session, name)


def tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )


def token_owner(session: Session, token: ApiToken) -> str:
    owner = session.get(User, token.user_id)
    assert owner is not None, "a token belongs to a user"
    return owner.name
