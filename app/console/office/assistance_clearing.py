"""The case worker's individual clearing pages (SPEC-ASSISTANCE A7; issue 22): 实时清算提示, the
06:00 job's suggestions with a one-click 清算 per person-year and 全部清算 per region, and the
printable 事前告知书 of a negative result with 标记已送达. Staff read; only operators write.
Every write is one transaction through office/assistance_actions, then a redirect back (the
outcome is read again from the database, nothing from the query string is trusted)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import clearings, notice, recipients, register, suggestions
from app.assistance.clearing_models import AssistanceClearing
from app.assistance.person_models import PersonClaim
from app.assistance.recovery import Resolution
from app.clock import business_date
from app.console.office import assistance_actions as actions
from app.console.office.common import Fields, OperatorUser, StaffUser, page, router
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import Conflict, DomainError, NotFound
from app.institutions.models import Region
from app.money import to_fen

pages = router()

SUGGESTIONS = "/console/assistance/clearing-suggestions"
REFERENCE = r"^[A-Za-z0-9_.:-]{1,40}$"
PSN_NO = re.compile(r"[A-Za-z0-9_.-]{1,30}")
REGION = re.compile(r"[0-9]{6}")
ReferencePath = Annotated[str, Path(pattern=REFERENCE)]
PENDING_MAX = 50

# Why a clearing was refused, in Chinese (fixed texts; the key travels in the redirect).
REFUSALS: dict[str, str] = {
    "nothing-to-clear": "该人员该年度当前差额为零，无需清算（提示已过时，次日 06:00 更新）。",
    "reference-conflict": (
        "今天已用同一清算单号清算过该人员该年度，但所选追回方式不同；"
        "已清算的结果不变，如需更改追回方式请联系管理员。"
    ),
    "not-found": "救助对象登记中没有该人员。",
    "invalid": "提交的内容有误（人员编号、年度或追回方式），未清算。",
    "refused": "与现有数据冲突，未清算。",
}
DEDUCTIONS = {
    "critical_illness": "大病保险",
    "mutual_aid": "职工医疗互助",
    "other": "其他扣减",
    "burden_relief": "综合减负",
}
DELIVERED = ["已标记告知书送达。"]
RESOLUTIONS = [(r.value, notice.RESOLUTION_LABELS[r]) for r in Resolution]


def _region_names(session: Session) -> dict[str, str]:
    return {row.code: row.name for row in session.scalars(select(Region).order_by(Region.code))}


def _count(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 7 else 0


def _outcome(session: Session, request: Request) -> dict[str, Any] | None:
    """What the last write did, read back from the database by its reference or prefix."""
    params = request.query_params
    reference = params.get("ref", "")
    if re.fullmatch(REFERENCE[1:-1], reference):
        row = clearings.find(session, reference)
        if row is not None:
            return {"kind": "one", "rows": [row], "replayed": params.get("again") == "1"}
    prefix = params.get("batch", "")
    if re.fullmatch(r"RT-[0-9]{8}", prefix):
        rows = session.scalars(
            select(AssistanceClearing)
            .where(AssistanceClearing.reference.startswith(f"{prefix}:", autoescape=True))
            .order_by(AssistanceClearing.id)
        ).all()
        return {
            "kind": "batch",
            "rows": list(rows),
            "cleared": _count(params.get("cleared", "")),
            "skipped": _count(params.get("skipped", "")),
        }
    refused = params.get("refused", "")
    if refused in REFUSALS:
        psn_no, year = params.get("psn_no", ""), params.get("year", "")
        who = f"{psn_no}（{year} 年度）" if PSN_NO.fullmatch(psn_no) and year.isdigit() else ""
        return {"kind": "refused", "who": who, "reason": REFUSALS[refused]}
    return None


def _pending_notices(session: Session, region: str | None) -> list[PersonClaim]:
    """Negative results whose 事前告知书 is not delivered yet (newest first)."""
    query = (
        select(PersonClaim)
        .where(PersonClaim.notice_delivered_at.is_(None))
        .order_by(PersonClaim.id.desc())
        .limit(PENDING_MAX)
    )
    if region is not None:
        query = query.where(PersonClaim.region_code == region)
    return list(session.scalars(query))


@pages.get("/assistance/clearing-suggestions")
def suggestions_page(
    request: Request, principal: StaffUser, session: SessionDep, clock: ClockDep
) -> Response:
    regions = _region_names(session)
    raw = request.query_params.get("region", "").strip()
    region = raw if raw in regions else None
    errors = [] if not raw or region else [f"统筹区：没有“{raw[:10]}”这一项"]
    rows = suggestions.listing(session, region)
    names = {r.psn_no: r.name for r in clearings.recipients_of(session, [s.psn_no for s in rows])}
    now = clock.now()
    shown = [
        {
            "row": row,
            "name": names.get(row.psn_no, "—"),
            "reference": actions.one_reference(now, row.psn_no, row.year),
        }
        for row in rows
    ]
    by_region: dict[str, int] = {}
    for row in rows:
        by_region[row.region_code] = by_region.get(row.region_code, 0) + 1
    pending = _pending_notices(session, region)
    pending_names = {
        r.psn_no: r.name for r in clearings.recipients_of(session, [c.psn_no for c in pending])
    }
    return page(
        request,
        "office/assistance_suggestions.html",
        principal,
        {
            "title": "实时清算提示",
            "regions": regions,
            "region": region,
            "suggestions": shown,
            "by_region": by_region,
            "batch_prefix": actions.batch_prefix(now),
            "today": business_date(now),
            "resolutions": RESOLUTIONS,
            "outcome": _outcome(session, request),
            "pending": pending,
            "pending_names": pending_names,
            "resolution_labels": {r.value: label for r, label in notice.RESOLUTION_LABELS.items()},
            "errors": errors,
        },
        status=422 if errors else 200,
    )


def _back(fields: dict[str, str], **outcome: str) -> RedirectResponse:
    region = fields.get("back_region", "")
    query = {"region": region} if REGION.fullmatch(region) else {}
    query.update(outcome)
    return RedirectResponse(f"{SUGGESTIONS}?{urlencode(query)}", status_code=303)


def _resolution(fields: dict[str, str]) -> Resolution | None:
    """The chosen recovery (下期抵扣 when none); ValueError for anything else."""
    value = fields.get("resolution", "")
    return Resolution(value) if value else None


def _refusal_key(error: DomainError) -> str:
    if isinstance(error, Conflict):
        return error.code if error.code in REFUSALS else "refused"
    if isinstance(error, NotFound):
        return "not-found"
    return "invalid"


@pages.post("/assistance/clearing-suggestions/clear")
def clear_one(
    request: Request, fields: Fields, principal: OperatorUser, clock: ClockDep
) -> Response:
    psn_no, year_text = fields.get("psn_no", ""), fields.get("year", "")
    who = {"psn_no": psn_no, "year": year_text}
    try:
        resolution = _resolution(fields)
    except ValueError:
        return _back(fields, refused="invalid", **who)
    if not PSN_NO.fullmatch(psn_no) or not re.fullmatch(r"20[0-9]{2}", year_text):
        return _back(fields, refused="invalid")
    try:
        with transaction(request.app.state.session_factory) as writing:
            row, created = actions.clear_one(
                writing,
                psn_no=psn_no,
                year=int(year_text),
                resolution=resolution,
                actor=principal,
                now=clock.now(),
            )
            reference = row.reference
    except DomainError as error:
        return _back(fields, refused=_refusal_key(error), **who)
    return _back(fields, ref=reference, **({} if created else {"again": "1"}))


@pages.post("/assistance/clearing-suggestions/clear-all")
def clear_all(
    request: Request, fields: Fields, principal: OperatorUser, clock: ClockDep
) -> Response:
    region = fields.get("region", "")
    try:
        resolution = _resolution(fields)
    except ValueError:
        return _back(fields, refused="invalid")
    if not REGION.fullmatch(region):
        return _back(fields, refused="invalid")
    now = clock.now()
    try:
        with transaction(request.app.state.session_factory) as writing:
            outcomes = actions.clear_region(
                writing, region_code=region, resolution=resolution, actor=principal, now=now
            )
    except DomainError as error:
        return _back(fields, refused=_refusal_key(error))
    cleared = sum(1 for item in outcomes if item.clearing is not None)
    return _back(
        fields,
        batch=actions.batch_prefix(now),
        cleared=str(cleared),
        skipped=str(len(outcomes) - cleared),
    )


# --- 事前告知书 -------------------------------------------------------------------------------


def _notice_path(reference: str) -> str:
    return f"/console/assistance/clearings/{reference}/notice"


@pages.get("/assistance/clearings/{reference}/notice")
def notice_page(
    request: Request,
    reference: ReferencePath,
    principal: StaffUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    content = notice.notice(session, reference)
    person = recipients.get(session, content["psn_no"])
    region = session.get(Region, content["region"])
    items = [
        {**item, "base_fen": to_fen(item["base"]), "amount_fen": to_fen(item["amount"])}
        for item in content["items"]
    ]
    return page(
        request,
        "office/assistance_notice.html",
        principal,
        {
            "title": "事前告知书",
            "n": content,
            "items": items,
            "certno": register.mask_certno(person.certno),
            "region_name": region.name if region is not None else content["region"],
            "due_fen": to_fen(content["due"]),
            "granted_fen": to_fen(content["granted"]),
            "owed_fen": to_fen(content["owed"]),
            "open_fen": to_fen(content["open"]),
            "deductions": [
                {**d, "fen": to_fen(d["amount"]), "label": DEDUCTIONS.get(d["type"], d["type"])}
                for d in content["deductions"]
                if d["counted"]
            ],
            "printed_on": business_date(clock.now()),
            "notices": DELIVERED if request.query_params.get("ok") == "delivered" else [],
        },
    )


@pages.post("/assistance/clearings/{reference}/notice-delivered")
def mark_delivered(
    request: Request, reference: ReferencePath, principal: OperatorUser, clock: ClockDep
) -> Response:
    with transaction(request.app.state.session_factory) as writing:
        actions.notice_delivered(writing, reference, actor=principal, now=clock.now())
    return RedirectResponse(f"{_notice_path(reference)}?ok=delivered", status_code=303)
