"""Regions, fund ledgers, effective-dated policy versions, institutions and enrollments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Invalid, NotFound
from app.institutions import rules
from app.institutions.models import (
    BASIC_INSUTYPES,
    Enrollment,
    FundLedger,
    Institution,
    PolicyVersion,
    Region,
)
from app.institutions.schemas import (
    EnrollmentIn,
    FundLedgerIn,
    FundLedgerPatch,
    InstitutionIn,
    InstitutionPatch,
    PolicyIn,
    RegionIn,
    RegionPatch,
)
from app.settlements.models import Settlement
from app.trail import service as trail

POLICY_VERSIONS_MAX = 200  # per fund ledger


def _snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: getattr(row, field) for field in fields}


# --- regions --------------------------------------------------------------------------------

REGION_FIELDS = ("name", "division_prefixes")


def create_region(session: Session, data: RegionIn, *, actor: Principal, now: datetime) -> Region:
    if session.get(Region, data.code) is not None:
        raise Conflict(f"region {data.code} exists")
    prefix = data.code[:4]
    clash = session.scalar(select(Region.code).where(Region.code.startswith(prefix)))
    if clash is not None:
        # Bank instruction ids carry the first four digits of the region code (API.md).
        raise Invalid.field(
            "code", "region_prefix_unique", f"region {clash} already uses the prefix {prefix}"
        )
    region = Region(
        code=data.code,
        name=data.name,
        division_prefixes=data.division_prefixes or rules.default_division_prefixes(data.code),
    )
    session.add(region)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="region.create",
        entity="region",
        key=region.code,
        before=None,
        after=_snapshot(region, REGION_FIELDS),
        now=now,
    )
    return region


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(f"no region {code}")
    return region


def update_region(
    session: Session, code: str, data: RegionPatch, *, actor: Principal, now: datetime
) -> Region:
    region = get_region(session, code)
    before = _snapshot(region, REGION_FIELDS)
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(region, field, value)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="region.update",
        entity="region",
        key=code,
        before=before,
        after=_snapshot(region, REGION_FIELDS),
        now=now,
    )
    return region


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def region_names(session: Session) -> dict[str, str]:
    """Pooling region code -> name (exports put names beside codes)."""
    return {code: name for code, name in session.execute(select(Region.code, Region.name))}


# --- fund ledgers and policy ----------------------------------------------------------------

FUND_FIELDS = (
    "name",
    "expenditure_account",
    "expenditure_account_name",
    "requires_settlement_list",
)


def create_fund_ledger(
    session: Session, data: FundLedgerIn, *, actor: Principal, now: datetime
) -> FundLedger:
    if session.get(Region, data.region_code) is None:
        raise Invalid.field("region_code", "region_exists", f"no region {data.region_code}")
    if find_fund_ledger(session, data.region_code, data.insutype) is not None:
        raise Conflict(f"fund ledger {data.region_code}:{data.insutype} exists")
    fund = FundLedger(**data.model_dump())
    session.add(fund)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="fund_ledger.create",
        entity="fund_ledger",
        key=fund.key,
        before=None,
        after=_snapshot(fund, FUND_FIELDS),
        now=now,
    )
    return fund


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


def update_fund_ledger(
    session: Session, fund: FundLedger, data: FundLedgerPatch, *, actor: Principal, now: datetime
) -> FundLedger:
    before = _snapshot(fund, FUND_FIELDS)
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(fund, field, value)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="fund_ledger.update",
        entity="fund_ledger",
        key=fund.key,
        before=before,
        after=_snapshot(fund, FUND_FIELDS),
        now=now,
    )
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


def add_policy_version(
    session: Session, fund: FundLedger, data: PolicyIn, *, actor: Principal, now: datetime
) -> PolicyVersion:
    """A new version from `effective_from`. Versions are never edited: a change is a new
    version (the same date twice is a conflict)."""
    existing = policy_versions(session, fund.id)
    if len(existing) >= POLICY_VERSIONS_MAX:
        raise Conflict(f"fund ledger {fund.key} already has {POLICY_VERSIONS_MAX} versions")
    if any(version.effective_from == data.effective_from for version in existing):
        raise Conflict(f"a policy version from {data.effective_from} exists for {fund.key}")
    _check_no_rerating(session, fund, existing, data)
    version = PolicyVersion(
        fund_ledger_id=fund.id,
        effective_from=data.effective_from,
        active=data.active,
        daily_ratio_bp=data.daily_ratio,
        deposit_rate_bp=data.deposit_rate,
        submission_time=data.submission_time,
        cutoff_time=data.cutoff_time,
        declaration_day=data.declaration_day,
        appeal_window_days=data.appeal_window_days,
        approval_threshold_fen=data.approval_threshold,
        funds_check=data.funds_check,
        created_by=actor.name,
        created_at=now,
    )
    session.add(version)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="policy.create",
        entity="fund_ledger",
        key=fund.key,
        before=None,
        after=data.model_dump(mode="json"),
        now=now,
    )
    return version


def _check_no_rerating(
    session: Session, fund: FundLedger, existing: list[PolicyVersion], data: PolicyIn
) -> None:
    """Each settlement's daily amount is fixed at upload with the ratio in force on its date;
    a version may not change the ratio of dates that already have settlements."""
    before = [v for v in existing if v.effective_from < data.effective_from]
    later = [v for v in existing if v.effective_from > data.effective_from]
    current = before[-1].daily_ratio_bp if before else None
    if current == data.daily_ratio:
        return
    until = later[0].effective_from if later else None
    query = select(Settlement.id).where(
        Settlement.region_code == fund.region_code,
        Settlement.insutype == fund.insutype,
        Settlement.setl_date >= data.effective_from,
    )
    if until is not None:
        query = query.where(Settlement.setl_date < until)
    if session.scalar(query.limit(1)) is not None:
        raise Conflict(
            f"settlements dated from {data.effective_from} exist in {fund.key}: a new daily "
            "ratio applies to later dates only"
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

INSTITUTION_FIELDS = (
    "name",
    "level",
    "region_code",
    "bank_account",
    "bank_account_name",
    "bank_code",
    "med_type_prefixes",
)


def create_institution(
    session: Session, data: InstitutionIn, *, actor: Principal, now: datetime
) -> Institution:
    if session.get(Region, data.region_code) is None:
        raise Invalid.field("region_code", "region_exists", f"no region {data.region_code}")
    if session.get(Institution, data.code) is not None:
        raise Conflict(f"institution {data.code} exists")
    institution = Institution(**data.model_dump(exclude={"enrollments"}))
    session.add(institution)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="institution.create",
        entity="institution",
        key=institution.code,
        before=None,
        after=_snapshot(institution, INSTITUTION_FIELDS),
        now=now,
    )
    for enrollment in data.enrollments:
        add_enrollment(session, institution, enrollment, actor=actor, now=now)
    return institution


def get_institution(session: Session, code: str) -> Institution:
    institution = session.get(Institution, code)
    if institution is None:
        raise NotFound(f"no institution {code!r}")
    return institution


def update_institution(
    session: Session, code: str, data: InstitutionPatch, *, actor: Principal, now: datetime
) -> Institution:
    institution = get_institution(session, code)
    before = _snapshot(institution, INSTITUTION_FIELDS)
    given = data.model_dump(exclude_unset=True)
    current = {field: getattr(institution, field) for field in rules.PAYEE_FIELDS}
    for field in rules.payee_changes(current, given):
        # The payee changes under two people only (docs/rules.md "Payee changes").
        raise Invalid.field(
            field,
            "payee_change_required",
            f"the payee ({', '.join(rules.PAYEE_FIELDS)}) is not changed here: request a "
            f"payee change, POST /api/v1/institutions/{code}/payee-changes, which a second "
            "person (accountant or admin) approves",
        )
    for field, value in given.items():
        if value is not None:
            setattr(institution, field, value)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="institution.update",
        entity="institution",
        key=code,
        before=before,
        after=_snapshot(institution, INSTITUTION_FIELDS),
        now=now,
    )
    return institution


def add_enrollment(
    session: Session,
    institution: Institution,
    data: EnrollmentIn,
    *,
    actor: Principal,
    now: datetime,
) -> Enrollment:
    if find_fund_ledger(session, institution.region_code, data.insutype) is None:
        raise Invalid.field(
            "insutype",
            "fund_ledger_exists",
            f"region {institution.region_code} has no fund ledger {data.insutype}",
        )
    spans = enrollment_spans(session, institution.code, data.insutype)
    for start, end in spans:
        overlaps = (end is None or data.start_date <= end) and (
            data.end_date is None or start <= data.end_date
        )
        if overlaps:
            raise Conflict(
                f"{institution.code} is already enrolled for {data.insutype} from {start}"
            )
    enrollment = Enrollment(fixmedins_code=institution.code, **data.model_dump())
    session.add(enrollment)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="enrollment.create",
        entity="institution",
        key=institution.code,
        before=None,
        after=data.model_dump(mode="json"),
        now=now,
    )
    return enrollment


def end_enrollment(
    session: Session,
    institution: Institution,
    enrollment_id: int,
    end_date: date,
    *,
    actor: Principal,
    now: datetime,
) -> Enrollment:
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.fixmedins_code != institution.code:
        raise NotFound(f"no enrollment {enrollment_id} of {institution.code}")
    if end_date < enrollment.start_date:
        raise Invalid.field("end_date", "end_after_start", "end_date must not be before start")
    others = session.scalars(
        select(Enrollment).where(
            Enrollment.fixmedins_code == institution.code,
            Enrollment.insutype == enrollment.insutype,
            Enrollment.id != enrollment.id,
        )
    )
    for other in others:
        if other.start_date <= end_date and (
            other.end_date is None or enrollment.start_date <= other.end_date
        ):
            raise Conflict(
                f"{institution.code} is enrolled for {enrollment.insutype} again from "
                f"{other.start_date}: this enrollment cannot end after that"
            )
    before = {"end_date": enrollment.end_date}
    enrollment.end_date = end_date
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="enrollment.end",
        entity="institution",
        key=institution.code,
        before=before,
        after={"end_date": end_date},
        now=now,
    )
    return enrollment


def enrollments(session: Session, code: str) -> list[Enrollment]:
    return list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.fixmedins_code == code)
            .order_by(Enrollment.insutype, Enrollment.start_date)
        )
    )


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
