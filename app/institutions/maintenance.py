"""Changes to the reference data: regions, fund ledgers, policy versions, institutions and
enrollments are created and changed here, each change recorded on the trail (reads: `service`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Invalid, NotFound
from app.institutions import rules
from app.institutions.models import Enrollment, FundLedger, Institution, PolicyVersion, Region
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
from app.institutions.service import (
    enrollment_spans,
    find_fund_ledger,
    get_institution,
    get_region,
    policy_versions,
)
from app.settlements.models import Settlement
from app.trail import service as trail

POLICY_VERSIONS_MAX = 200  # per fund ledger

# Called with (session, region_code, insutype, fixmedins_code) for each new enrolment, in its
# transaction: the ledger opens the institution's accounts of that fund (registered by
# `app.wiring`; institutions come before the ledger in the import order).
EnrollmentHook = Callable[[Session, str, str, str], None]
_ENROLLMENT_HOOKS: list[EnrollmentHook] = []


def on_enrollment(hook: EnrollmentHook) -> None:
    """Register a function called for each new enrolment (idempotent)."""
    if hook not in _ENROLLMENT_HOOKS:
        _ENROLLMENT_HOOKS.append(hook)


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
    for hook in _ENROLLMENT_HOOKS:
        hook(session, institution.region_code, data.insutype, institution.code)
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
