"""Every write of the office pages, in one adapter: each function calls the same domain
service the API route calls (CONSOLE-RULES: when domain services are renamed, only this
module changes). The caller holds the transaction (one per request); these only flush."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.annual import service as annual
from app.annual.schemas import AssessmentIn
from app.auth import logins
from app.auth import service as auth
from app.auth.models import ApiToken
from app.auth.principal import Principal
from app.clock import Clock
from app.institutions import maintenance, payees
from app.institutions import service as institutions
from app.institutions.rules import PAYEE_FIELDS, payee_changes
from app.institutions.schemas import EnrollmentIn, InstitutionPatch, PolicyIn
from app.monthly import advances, audits
from app.monthly.schemas import AdvanceIn, AuditIn
from app.workdays import operations as calendar
from jobs import manual
from jobs.runner import RunOutcome

# --- reference data (operators and admins) --------------------------------------------------


def update_institution(
    session: Session, code: str, data: InstitutionPatch, *, actor: Principal, now: datetime
) -> bool:
    """Save the details; a changed payee becomes a payee change request (two people).
    True when a request was filed."""
    given = data.model_dump(exclude_unset=True)
    payee = {field: given.pop(field, None) for field in PAYEE_FIELDS}
    institution = institutions.get_institution(session, code)
    current = {field: getattr(institution, field) for field in PAYEE_FIELDS}
    maintenance.update_institution(
        session, code, InstitutionPatch.model_validate(given), actor=actor, now=now
    )
    if not payee_changes(current, payee):
        return False
    payees.request_change(session, code, payee, "机构信息页面提交", actor=actor, now=now)
    return True


def add_enrollment(
    session: Session, code: str, data: EnrollmentIn, *, actor: Principal, now: datetime
) -> None:
    institution = institutions.get_institution(session, code)
    maintenance.add_enrollment(session, institution, data, actor=actor, now=now)


def end_enrollment(
    session: Session,
    code: str,
    enrollment_id: int,
    end_date: date,
    *,
    actor: Principal,
    now: datetime,
) -> None:
    institution = institutions.get_institution(session, code)
    maintenance.end_enrollment(session, institution, enrollment_id, end_date, actor=actor, now=now)


def add_policy(
    session: Session,
    region_code: str,
    insutype: str,
    data: PolicyIn,
    *,
    actor: Principal,
    now: datetime,
) -> None:
    fund = institutions.get_fund_ledger(session, region_code, insutype)
    maintenance.add_policy_version(session, fund, data, actor=actor, now=now)


def override_day(
    session: Session, day: date, working: bool, note: str, *, actor: Principal, now: datetime
) -> None:
    calendar.override(session, day=day, working=working, note=note, actor=actor, now=now)


def remove_override(session: Session, day: date, *, actor: Principal, now: datetime) -> None:
    calendar.remove_override(session, day=day, actor=actor, now=now)


def confirm_year(session: Session, year: int, *, actor: Principal, now: datetime) -> None:
    calendar.confirm_year(session, year=year, actor=actor, now=now)


# --- operations (operators) -----------------------------------------------------------------


def import_audits(
    session: Session, items: Sequence[AuditIn], *, actor: Principal, now: datetime
) -> list[dict[str, Any]]:
    """The API's bulk path (POST /audits/bulk): each item's outcome, created, duplicate or
    refused with its errors. The caller decides whether to keep the transaction."""
    return audits.record_bulk(session, items, actor=actor, now=now)


def review(
    session: Session,
    key: tuple[str, str, str],
    amount_fen: int,
    final: bool,
    *,
    actor: Principal,
    now: datetime,
) -> None:
    code, setl_id, rule_code = key
    audits.review(session, code, setl_id, rule_code, amount_fen, final, actor=actor, now=now)


def consultation(
    session: Session, key: tuple[str, str, str], amount_fen: int, *, actor: Principal, now: datetime
) -> None:
    code, setl_id, rule_code = key
    audits.consultation(session, code, setl_id, rule_code, amount_fen, actor=actor, now=now)


def register_advance(session: Session, data: AdvanceIn, *, actor: Principal, now: datetime) -> bool:
    """True when recorded now, False when the same advance was recorded before."""
    _, created = advances.register(
        session,
        code=data.fixmedins_code,
        insutype=data.insutype,
        period=data.period,
        amount_fen=data.amount,
        reference=data.reference,
        actor=actor,
        now=now,
    )
    return created


def record_assessment(
    session: Session, data: AssessmentIn, *, actor: Principal, now: datetime
) -> bool:
    _, created = annual.record_assessment(session, data, actor=actor, now=now)
    return created


def run_job(state: Any, clock: Clock, name: str, day: date, *, again: bool) -> RunOutcome:
    """Runs in its own transactions (one per job step), like the API's run."""
    return manual.run_for_date(state, clock, name, day, again=again)


def acknowledge_alert(session: Session, alert_id: int, *, actor: Principal, now: datetime) -> None:
    alerts.acknowledge(session, alert_id=alert_id, actor=actor, now=now)


# --- users and tokens (admins) --------------------------------------------------------------


def create_user(
    session: Session,
    name: str,
    role: str,
    fixmedins_code: str | None,
    *,
    actor: Principal,
    now: datetime,
) -> None:
    auth.create_user(
        session, name=name, role=role, fixmedins_code=fixmedins_code, actor=actor, now=now
    )


def set_active(
    session: Session, name: str, active: bool, *, actor: Principal, now: datetime
) -> None:
    auth.set_active(session, name=name, active=active, actor=actor, now=now)


def set_password(
    session: Session, name: str, password: str, *, actor: Principal, now: datetime
) -> None:
    logins.set_password(session, name=name, password=password, actor=actor, now=now)


def issue_token(
    session: Session, name: str, *, actor: Principal, now: datetime
) -> tuple[ApiToken, str]:
    """The new token row and its secret, which is shown once and never stored."""
    return auth.issue_token(session, name=name, actor=actor, now=now)


def revoke_token(session: Session, token_id: int, *, actor: Principal, now: datetime) -> ApiToken:
    return auth.revoke_token(session, token_id=token_id, actor=actor, now=now)
