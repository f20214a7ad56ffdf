"""Regions, fund ledgers, effective-dated policy versions, institutions and enrollments: the
reads every domain uses. Their creation and changes, each on the trail, are in `maintenance`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.institutions import rules
from app.institutions.models import (
    BASIC_INSUTYPES,
    Enrollment,
    FundLedger,
    Institution,
    PolicyVersion,
    Region,
)

# --- regions --------------------------------------------------------------------------------


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(f"no region {code}")
    return region


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def region_names(session: Session) -> dict[str, str]:
    """Pooling region code -> name (exports put names beside codes)."""
    return {code: name for code, name in session.execute(select(Region.code, Region.name))}


# --- fund ledgers and policy ----------------------------------------------------------------


def find_fund_ledger(session: Session, region_code: str, insutype: str) -> FundLedger | None:
    return session.scalar(
        select(FundLedger).where(
            FundLedger.region_code == region_code, FundLedger.insutype == insutype
        )
    )


def get_fund_ledger(session: Session, region_code: str, insutype: str) -> FundLedger:
    fund = find_fund_ledger(session, region_code, insutype)
    if fund is None:
        raise NotFound(f"no fund ledger {region_code}:{insutype}")
    return fund


def lock_fund_ledger(session: Session, fund_ledger_id: int) -> None:
    """Serialise the fund ledger's payment-side work until commit: the daily submission, the
    monthly computation, and whatever moves a receivable offset (repayments, statement and
    clearing approvals and recomputes, clearings). Taken before any document row, always.
    FOR NO KEY UPDATE: rows that only reference the fund ledger still insert."""
    session.execute(
        select(FundLedger.id).where(FundLedger.id == fund_ledger_id).with_for_update(key_share=True)
    )


def list_fund_ledgers(
    session: Session, *, insutypes: Sequence[str] = BASIC_INSUTYPES
) -> list[FundLedger]:
    """The fund ledgers of the given insurance types, by region and type. The default is the
    basic funds (310/390), which the daily, monthly and annual jobs pay from: the assistance
    fund (610) takes part only where it is asked for by name (A1)."""
    return list(
        session.scalars(
            select(FundLedger)
            .where(FundLedger.insutype.in_(insutypes))
            .order_by(FundLedger.region_code, FundLedger.insutype)
        )
    )


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def policy_of(version: PolicyVersion) -> rules.Policy:
    return rules.Policy(
        effective_from=version.effective_from,
        active=version.active,
        daily_ratio_bp=version.daily_ratio_bp,
        deposit_rate_bp=version.deposit_rate_bp,
        submission_time=_clock_time(version.submission_time),
        cutoff_time=_clock_time(version.cutoff_time),
        declaration_day=version.declaration_day,
        appeal_window_days=version.appeal_window_days,
        approval_threshold_fen=version.approval_threshold_fen,
        funds_check=version.funds_check,
    )


def policy_versions(session: Session, fund_ledger_id: int) -> list[PolicyVersion]:
    return list(
        session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.fund_ledger_id == fund_ledger_id)
            .order_by(PolicyVersion.effective_from)
        )
    )


def policies(session: Session, fund_ledger_id: int) -> list[rules.Policy]:
    return [policy_of(version) for version in policy_versions(session, fund_ledger_id)]


def policy_on(session: Session, fund_ledger_id: int, on: date) -> rules.Policy | None:
    """The policy in force on a date, None when the fund ledger is switched off then."""
    return rules.in_force(policies(session, fund_ledger_id), on)


# --- institutions ---------------------------------------------------------------------------


def get_institution(session: Session, code: str) -> Institution:
    institution = session.get(Institution, code)
    if institution is None:
        raise NotFound(f"no institution {code!r}")
    return institution


def enrollments(session: Session, code: str) -> list[Enrollment]:
    return list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.fixmedins_code == code)
            .order_by(Enrollment.insutype, Enrollment.start_date)
        )
    )


def enrollments_of(session: Session, codes: Sequence[str]) -> dict[str, list[Enrollment]]:
    """The enrolments of a page of institutions in one query, each as `enrollments` orders
    them."""
    result: dict[str, list[Enrollment]] = {code: [] for code in codes}
    if not result:
        return result
    rows = session.scalars(
        select(Enrollment)
        .where(Enrollment.fixmedins_code.in_(list(result)))
        .order_by(Enrollment.fixmedins_code, Enrollment.insutype, Enrollment.start_date)
    )
    for row in rows:
        result[row.fixmedins_code].append(row)
    return result


def enrollment_spans(session: Session, code: str, insutype: str) -> list[tuple[date, date | None]]:
    return [
        (row.start_date, row.end_date)
        for row in enrollments(session, code)
        if row.insutype == insutype
    ]


def list_institutions(
    session: Session,
    *,
    region_code: str | None,
    after_code: str | None,
    limit: int,
    only_code: str | None = None,
) -> list[Institution]:
    query = select(Institution).order_by(Institution.code).limit(limit)
    if region_code:
        query = query.where(Institution.region_code == region_code)
    if after_code:
        query = query.where(Institution.code > after_code)
    if only_code:
        query = query.where(Institution.code == only_code)
    return list(session.scalars(query))


def institution_names(session: Session, codes: list[str] | None = None) -> dict[str, str]:
    """Institution code -> name, for the given codes (all when None)."""
    query = select(Institution.code, Institution.name)
    if codes is not None:
        query = query.where(Institution.code.in_(sorted(set(codes))))
    return {code: name for code, name in session.execute(query)}


@dataclass(frozen=True)
class Enrolled:
    """An institution enrolled in a fund ledger (for jobs working per institution)."""

    fixmedins_code: str
    insutype: str
    region_code: str
    start_date: date
    end_date: date | None


def enrolled_in(session: Session, fund: FundLedger) -> list[Enrolled]:
    rows = session.execute(
        select(Enrollment, Institution.region_code)
        .join(Institution, Institution.code == Enrollment.fixmedins_code)
        .where(Institution.region_code == fund.region_code, Enrollment.insutype == fund.insutype)
        .order_by(Enrollment.fixmedins_code, Enrollment.start_date)
    ).all()
    return [
        Enrolled(e.fixmedins_code, e.insutype, region, e.start_date, e.end_date)
        for e, region in rows
    ]
