"""Reference data API: operators and admins write, staff read, hospitals read their own."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from app.auth.deps import PayeeChecker, Reader, ReferenceData, Staff, scope
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.institutions import maintenance, payees, rules, service
from app.institutions.models import (
    FUND_INSUTYPES,
    Enrollment,
    FundLedger,
    Institution,
    PayeeChange,
    Region,
)
from app.institutions.schemas import (
    EnrollmentIn,
    EnrollmentOut,
    FundInsutype,
    FundLedgerIn,
    FundLedgerOut,
    FundLedgerPatch,
    InstitutionIn,
    InstitutionOut,
    InstitutionPatch,
    PayeeChangeIn,
    PayeeChangeOut,
    PayeeDecisionIn,
    PayeeOut,
    PolicyIn,
    PolicyOut,
    RegionIn,
    RegionOut,
    RegionPatch,
)
from app.money import bp_str
from app.pagination import CursorQuery, LimitQuery, Page, decode_text_cursor, page_of

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["reference data"])


def _policy_out(policy: rules.Policy) -> PolicyOut:
    return PolicyOut(
        effective_from=policy.effective_from,
        active=policy.active,
        daily_ratio=policy.daily_ratio_bp,
        deposit_rate=policy.deposit_rate_bp,
        submission_time=policy.submission_time.strftime("%H:%M"),
        cutoff_time=policy.cutoff_time.strftime("%H:%M"),
        declaration_day=policy.declaration_day,
        appeal_window_days=policy.appeal_window_days,
        approval_threshold=policy.approval_threshold_fen,
        funds_check=policy.funds_check,
    )


def _fund_out(session: Session, fund: FundLedger) -> FundLedgerOut:
    versions = service.policies(session, fund.id)
    return FundLedgerOut(
        region_code=fund.region_code,
        insutype=fund.insutype,
        name=fund.name,
        expenditure_account=fund.expenditure_account,
        expenditure_account_name=fund.expenditure_account_name,
        requires_settlement_list=fund.requires_settlement_list,
        switched_on_from=rules.switched_on_from(versions),
        policies=[_policy_out(policy) for policy in versions],
    )


def _institution_out(
    session: Session, institution: Institution, enrollments: list[Enrollment] | None = None
) -> InstitutionOut:
    """An institution as the API shows it; a list passes its page's enrolments (one query)."""
    if enrollments is None:
        enrollments = service.enrollments(session, institution.code)
    return InstitutionOut(
        code=institution.code,
        name=institution.name,
        level=institution.level,
        region_code=institution.region_code,
        bank_account=institution.bank_account,
        bank_account_name=institution.bank_account_name,
        bank_code=institution.bank_code,
        med_type_prefixes=list(institution.med_type_prefixes),
        enrollments=[EnrollmentOut.model_validate(row) for row in enrollments],
    )


@router.post("/regions", status_code=201, response_model=RegionOut)
def create_region(
    body: RegionIn, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> Region:
    with session.begin():
        return maintenance.create_region(session, body, actor=actor, now=clock.now())


@router.get("/regions", response_model=list[RegionOut])
def list_regions(_: Staff, session: SessionDep) -> list[Region]:
    return service.list_regions(session)


@router.get("/regions/{code}", response_model=RegionOut)
def get_region(code: str, _: Staff, session: SessionDep) -> Region:
    return service.get_region(session, code)


@router.patch("/regions/{code}", response_model=RegionOut)
def update_region(
    code: str, body: RegionPatch, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> Region:
    with session.begin():
        return maintenance.update_region(session, code, body, actor=actor, now=clock.now())


@router.post("/fund-ledgers", status_code=201)
def create_fund_ledger(
    body: FundLedgerIn, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> FundLedgerOut:
    with session.begin():
        fund = maintenance.create_fund_ledger(session, body, actor=actor, now=clock.now())
        return _fund_out(session, fund)


@router.get("/fund-ledgers")
def list_fund_ledgers(_: Staff, session: SessionDep) -> list[FundLedgerOut]:
    return [
        _fund_out(session, fund)
        for fund in service.list_fund_ledgers(session, insutypes=FUND_INSUTYPES)
    ]


@router.get("/fund-ledgers/{region_code}/{insutype}")
def get_fund_ledger(
    region_code: str, insutype: FundInsutype, _: Staff, session: SessionDep
) -> FundLedgerOut:
    return _fund_out(session, service.get_fund_ledger(session, region_code, insutype))


@router.patch("/fund-ledgers/{region_code}/{insutype}")
def update_fund_ledger(
    region_code: str,
    insutype: FundInsutype,
    body: FundLedgerPatch,
    actor: ReferenceData,
    session: SessionDep,
    clock: ClockDep,
) -> FundLedgerOut:
    with session.begin():
        fund = service.get_fund_ledger(session, region_code, insutype)
        maintenance.update_fund_ledger(session, fund, body, actor=actor, now=clock.now())
        return _fund_out(session, fund)


@router.post("/fund-ledgers/{region_code}/{insutype}/policies", status_code=201)
def add_policy(
    region_code: str,
    insutype: FundInsutype,
    body: PolicyIn,
    actor: ReferenceData,
    session: SessionDep,
    clock: ClockDep,
) -> FundLedgerOut:
    """A new effective-dated policy version; versions are never edited."""
    with session.begin():
        fund = service.get_fund_ledger(session, region_code, insutype)
        maintenance.add_policy_version(session, fund, body, actor=actor, now=clock.now())
        return _fund_out(session, fund)


@router.get("/fund-ledgers/{region_code}/{insutype}/policy")
def policy_on(
    region_code: str,
    insutype: FundInsutype,
    on: Annotated[date, Query(description="YYYY-MM-DD")],
    _: Reader,
    session: SessionDep,
) -> dict[str, object]:
    """The version in force on a date; `switched_on` false before the first version."""
    fund = service.get_fund_ledger(session, region_code, insutype)
    policy = service.policy_on(session, fund.id, on)
    return {
        "on": on,
        "switched_on": policy is not None,
        "policy": _policy_out(policy).model_dump(mode="json") if policy else None,
        "daily_ratio": bp_str(policy.daily_ratio_bp) if policy else None,
    }


@router.post("/institutions", status_code=201)
def create_institution(
    body: InstitutionIn, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> InstitutionOut:
    with session.begin():
        institution = maintenance.create_institution(session, body, actor=actor, now=clock.now())
        return _institution_out(session, institution)


@router.get("/institutions")
def list_institutions(
    principal: Reader,
    session: SessionDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    region_code: str | None = None,
) -> Page[InstitutionOut]:
    only = principal.fixmedins_code if principal.is_hospital else None
    rows = service.list_institutions(
        session,
        region_code=region_code,
        after_code=decode_text_cursor(cursor),
        limit=limit + 1,
        only_code=only,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.code)
    enrollments = service.enrollments_of(session, [row.code for row in page])
    items = [_institution_out(session, row, enrollments[row.code]) for row in page]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/institutions/{code}")
def get_institution(code: str, principal: Reader, session: SessionDep) -> InstitutionOut:
    scope(principal, code)
    return _institution_out(session, service.get_institution(session, code))


@router.patch("/institutions/{code}")
def update_institution(
    code: str, body: InstitutionPatch, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> InstitutionOut:
    with session.begin():
        institution = maintenance.update_institution(
            session, code, body, actor=actor, now=clock.now()
        )
        return _institution_out(session, institution)


@router.post("/institutions/{code}/enrollments", status_code=201)
def add_enrollment(
    code: str, body: EnrollmentIn, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> InstitutionOut:
    with session.begin():
        institution = service.get_institution(session, code)
        maintenance.add_enrollment(session, institution, body, actor=actor, now=clock.now())
        return _institution_out(session, institution)


@router.post("/institutions/{code}/enrollments/{enrollment_id}/end")
def end_enrollment(
    code: str,
    enrollment_id: IdPath,
    end_date: Annotated[date, Query()],
    actor: ReferenceData,
    session: SessionDep,
    clock: ClockDep,
) -> InstitutionOut:
    with session.begin():
        institution = service.get_institution(session, code)
        maintenance.end_enrollment(
            session, institution, enrollment_id, end_date, actor=actor, now=clock.now()
        )
        return _institution_out(session, institution)


# --- payee changes (two people) ---------------------------------------------------------------


def _payee_change_out(change: PayeeChange) -> PayeeChangeOut:
    return PayeeChangeOut(
        id=change.id,
        fixmedins_code=change.fixmedins_code,
        status=change.status,  # type: ignore[arg-type]
        old=PayeeOut(
            bank_account=change.old_bank_account,
            bank_account_name=change.old_bank_account_name,
            bank_code=change.old_bank_code,
        ),
        new=PayeeOut(
            bank_account=change.bank_account,
            bank_account_name=change.bank_account_name,
            bank_code=change.bank_code,
        ),
        reason=change.reason,
        requested_by=change.requested_by,
        requested_at=change.requested_at,
        decided_by=change.decided_by,
        decided_at=change.decided_at,
        decision_note=change.decision_note,
    )


@router.post("/institutions/{code}/payee-changes", status_code=201)
def request_payee_change(
    code: str, body: PayeeChangeIn, actor: ReferenceData, session: SessionDep, clock: ClockDep
) -> PayeeChangeOut:
    """Request a change of the bank account, account name or bank code (收款账户变更);
    nothing is paid differently until an accountant or admin other than the requester
    approves it."""
    with session.begin():
        change = payees.request_change(
            session,
            code,
            body.model_dump(exclude={"reason"}),
            body.reason,
            actor=actor,
            now=clock.now(),
        )
        return _payee_change_out(change)


@router.get("/institutions/{code}/payee-changes")
def list_payee_changes(code: str, principal: Reader, session: SessionDep) -> list[PayeeChangeOut]:
    """Every payee change of the institution, oldest first: the approved ones are the payee's
    versions (the account each replaced, who asked, who approved, when)."""
    scope(principal, code)
    service.get_institution(session, code)
    return [_payee_change_out(change) for change in payees.list_changes(session, code)]


@router.post("/institutions/{code}/payee-changes/{change_id}/approve")
def approve_payee_change(
    code: str, change_id: IdPath, actor: PayeeChecker, session: SessionDep, clock: ClockDep
) -> PayeeChangeOut:
    """The second person approves: instructions created from now on pay the new account;
    those already saved keep theirs."""
    with session.begin():
        change = payees.approve(session, code, change_id, actor=actor, now=clock.now())
        return _payee_change_out(change)


@router.post("/institutions/{code}/payee-changes/{change_id}/reject")
def reject_payee_change(
    code: str,
    change_id: IdPath,
    body: PayeeDecisionIn,
    actor: PayeeChecker,
    session: SessionDep,
    clock: ClockDep,
) -> PayeeChangeOut:
    with session.begin():
        change = payees.reject(session, code, change_id, body.note, actor=actor, now=clock.now())
        return _payee_change_out(change)
