"""Institutions and their fund ledgers' policy versions: lists and details for staff; edits
(institution details, enrollments, a new policy version) by operators and admins through the
same services as the API."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.clock import business_date
from app.console.listing import Filter, read_query
from app.console.office import actions, forms, queries
from app.console.office.common import Fields, ReferenceUser, StaffUser, done, page, router
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.http import IdPath
from app.institutions.schemas import EnrollmentIn, InstitutionPatch, PolicyIn
from app.money import bp_str, yuan

pages = router()
Insutype = Annotated[str, Path(pattern=r"^(310|390)$")]
CODE_PATTERN = r"[A-Z0-9]{1,12}"


def _institutions_page(request: Request, principal: Any, session: Session) -> Response:
    region_options = [(r.code, f"{r.name}（{r.code}）") for r in queries.regions(session)]
    filters = [Filter("region", "统筹区", "select", options=region_options)]
    query = read_query(request.query_params, filters)
    after = request.query_params.get("after", "")
    after_code = after if re.fullmatch(CODE_PATTERN, after) else None
    rows = queries.institution_page(
        session, region_code=query.get("region"), after_code=after_code, limit=query.limit + 1
    )
    shown, more = rows[: query.limit], len(rows) > query.limit
    next_url = query.url("/console/institutions", after=shown[-1].code) if more else None
    return page(
        request,
        "office/institutions.html",
        principal,
        {
            "title": "定点医药机构",
            "filters": filters,
            "query": query,
            "institutions": shown,
            "regions": dict(region_options),
            "funds": queries.fund_ledgers(session),
            "next_url": next_url,
            "first_url": query.url("/console/institutions") if after_code else None,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


@pages.get("/institutions")
def institutions_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    return _institutions_page(request, principal, session)


def _institution_page(
    request: Request,
    principal: Any,
    session: Session,
    code: str,
    clock: Any,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    institution = queries.institution(session, code)
    today = business_date(clock.now())
    funds = [
        (fund, queries.policy_in_force(session, fund, today))
        for fund in queries.fund_ledgers(session)
        if fund.region_code == institution.region_code
    ]
    return page(
        request,
        "office/institution.html",
        principal,
        {
            "title": institution.name,
            "institution": institution,
            "enrollments": queries.enrollments(session, code),
            "funds": funds,
            "today": today,
            "form": form or {},
            "errors": errors or [],
        },
        status=422 if errors else 200,
    )


@pages.get("/institutions/{code}")
def institution_page(
    request: Request, code: str, principal: StaffUser, session: SessionDep, clock: ClockDep
) -> Response:
    return _institution_page(request, principal, session, code, clock)


def _write(
    request: Request,
    principal: Any,
    session: Session,
    code: str,
    clock: Any,
    fields: dict[str, str],
    change: Any,
    ok: str,
) -> Response:
    """Run one change in one transaction; back to the institution page with its notice, or
    the page again with the refusal in Chinese."""
    try:
        with transaction(request.app.state.session_factory) as writing:
            change(writing)
        return done(f"/console/institutions/{code}", ok)
    except DomainError as error:
        errors = forms.refusal(
            error,
            on_conflict="与该机构已有的参保期间重叠，未保存",
            on_missing="没有找到该机构或该参保记录",
        )
    return _institution_page(request, principal, session, code, clock, errors=errors, form=fields)


@pages.post("/institutions/{code}")
def update_institution(
    request: Request,
    code: str,
    fields: Fields,
    principal: ReferenceUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    values: dict[str, Any] = dict(fields)
    if "med_type_prefixes" in values:
        prefixes = re.split(r"[,，\s]+", fields["med_type_prefixes"])
        values["med_type_prefixes"] = [p for p in prefixes if p]
    data, errors = forms.parse(InstitutionPatch, values)
    if data is None:
        return _institution_page(
            request, principal, session, code, clock, errors=errors, form=fields
        )

    filed: list[bool] = []

    def change(writing: Session) -> None:
        filed.append(
            actions.update_institution(writing, code, data, actor=principal, now=clock.now())
        )

    response = _write(request, principal, session, code, clock, fields, change, "institution")
    if filed and filed[0] and response.status_code == 303:
        return done(f"/console/institutions/{code}", "payee_change")
    return response


@pages.post("/institutions/{code}/enrollments")
def add_enrollment(
    request: Request,
    code: str,
    fields: Fields,
    principal: ReferenceUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    data, errors = forms.parse(EnrollmentIn, fields)
    if data is None:
        return _institution_page(
            request, principal, session, code, clock, errors=errors, form=fields
        )

    def change(writing: Session) -> None:
        actions.add_enrollment(writing, code, data, actor=principal, now=clock.now())

    return _write(request, principal, session, code, clock, fields, change, "enrollment")


@pages.post("/institutions/{code}/enrollments/{enrollment_id}/end")
def end_enrollment(
    request: Request,
    code: str,
    enrollment_id: IdPath,
    fields: Fields,
    principal: ReferenceUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    try:
        end_date = date.fromisoformat(fields.get("end_date", ""))
    except ValueError:
        errors = ["结束日期：请按“2026-09-01”的格式填写日期"]
        return _institution_page(request, principal, session, code, clock, errors=errors)

    def change(writing: Session) -> None:
        actions.end_enrollment(
            writing, code, enrollment_id, end_date, actor=principal, now=clock.now()
        )

    return _write(request, principal, session, code, clock, fields, change, "enrollment_end")


# --- a fund ledger's policy versions ------------------------------------------------------------


def _policy_rows(versions: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "effective_from": v.effective_from,
            "active": v.active,
            "daily_ratio": bp_str(v.daily_ratio_bp),
            "deposit_rate": bp_str(v.deposit_rate_bp),
            "submission_time": v.submission_time,
            "cutoff_time": v.cutoff_time,
            "declaration_day": v.declaration_day,
            "appeal_window_days": v.appeal_window_days,
            "approval_threshold_fen": v.approval_threshold_fen,
            "created": (v.created_by, v.created_at),
        }
        for v in versions
    ]


def _fund_page(
    request: Request,
    principal: Any,
    session: Session,
    key: tuple[str, str],
    clock: Any,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    fund = queries.fund_ledger(session, *key)
    versions = queries.policy_versions(session, fund)
    latest = versions[-1] if versions else None
    defaults = {
        "daily_ratio": bp_str(latest.daily_ratio_bp) if latest else "0.60",
        "deposit_rate": bp_str(latest.deposit_rate_bp) if latest else "0.05",
        "submission_time": latest.submission_time if latest else "14:30",
        "cutoff_time": latest.cutoff_time if latest else "15:00",
        "declaration_day": str(latest.declaration_day) if latest else "15",
        "appeal_window_days": str(latest.appeal_window_days) if latest else "5",
        "approval_threshold": (
            yuan(latest.approval_threshold_fen)
            if latest and latest.approval_threshold_fen is not None
            else ""
        ),
    }
    return page(
        request,
        "office/fund_ledger.html",
        principal,
        {
            "title": fund.name,
            "fund": fund,
            "versions": _policy_rows(versions),
            "switched_on_from": queries.switched_on_from(session, fund),
            "form": {**defaults, **(form or {})},
            "errors": errors or [],
        },
        status=422 if errors else 200,
    )


@pages.get("/fund-ledgers/{region_code}/{insutype}")
def fund_ledger_page(
    request: Request,
    region_code: str,
    insutype: Insutype,
    principal: StaffUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    return _fund_page(request, principal, session, (region_code, insutype), clock)


@pages.post("/fund-ledgers/{region_code}/{insutype}/policies")
def add_policy(
    request: Request,
    region_code: str,
    insutype: Insutype,
    fields: Fields,
    principal: ReferenceUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """A new effective-dated version (versions are never edited)."""
    values: dict[str, Any] = dict(fields)
    values["active"] = fields.get("active") == "true"
    data, errors = forms.parse(PolicyIn, values)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.add_policy(
                    writing, region_code, insutype, data, actor=principal, now=clock.now()
                )
            return done(f"/console/fund-ledgers/{region_code}/{insutype}", "policy")
        except DomainError as error:
            errors = forms.refusal(
                error,
                on_conflict=(
                    "未保存：该生效日期已有版本，或该日期之后已有结算（新的日拨付比例"
                    "只能从尚无结算的日期起生效）"
                ),
            )
    return _fund_page(
        request, principal, session, (region_code, insutype), clock, errors=errors, form=fields
    )
