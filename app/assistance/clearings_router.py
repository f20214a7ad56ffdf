"""Medical-assistance API, issue 22 item 4: individual clearing (个人清算). Real-time clearings
and the suggestions are the case worker's (operator), the annual clearing the admin's; staff
read results, suggestions and notices; hospitals get 403."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.assistance import clearings, notice, suggestions
from app.assistance.clearing_models import AssistanceClearing, ClearingSuggestion
from app.assistance.clearing_schemas import (
    AnnualClearingIn,
    AnnualClearingOut,
    AssistanceClearingOut,
    ClearedOut,
    ClearIn,
    ClearingDetailOut,
    ClearSuggestionsIn,
    ModeValue,
    NoticeOut,
    SuggestionOut,
)
from app.assistance.schemas import PsnNo
from app.auth.deps import Admin, Operator, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)

ReferencePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]


def clearing_out(row: AssistanceClearing) -> AssistanceClearingOut:
    return AssistanceClearingOut(
        reference=row.reference,
        psn_no=row.psn_no,
        region=row.region_code,
        year=row.year,
        mode=row.mode,  # type: ignore[arg-type]
        due=row.due_fen,
        granted=row.granted_fen,
        difference=row.difference_fen,
        resolution=row.resolution,  # type: ignore[arg-type]
        made_at=row.made_at,
        made_by=row.made_by,
        snapshot_hash=row.snapshot_hash,
        taken_back=row.taken_back_at is not None,
    )


def suggestion_out(row: ClearingSuggestion) -> SuggestionOut:
    return SuggestionOut(
        psn_no=row.psn_no,
        region=row.region_code,
        year=row.year,
        difference=row.difference_fen,
        found_at=row.found_at,
    )


@router.post("/clearings", status_code=201)
def clear(
    body: ClearIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> AssistanceClearingOut:
    """实时清算 (A7, A10): the person-year afresh; > 0 a top-up under the reference, < 0 a claim
    (`resolution`, default next_period). 201 made, 200 the same request again, 409
    `nothing-to-clear` (difference zero) or the reference with other data, 404 a person not
    in the register."""
    with session.begin():
        row, created = clearings.clear(
            session,
            reference=body.reference,
            psn_no=body.psn_no,
            year=body.year,
            resolution=body.resolution,
            actor=actor,
            now=clock.now(),
        )
        if not created:
            response.status_code = 200
        return clearing_out(row)


@router.get("/clearings")
def list_clearings(
    _: Staff,
    session: SessionDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    psn_no: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,30}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2099)] = None,
    mode: ModeValue | None = None,
) -> Page[AssistanceClearingOut]:
    rows = clearings.listing(
        session,
        psn_no=psn_no,
        year=year,
        mode=mode,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    return Page(items=[clearing_out(row) for row in page], next_cursor=next_cursor)


@router.get("/clearings/{reference}")
def get_clearing(reference: ReferencePath, _: Staff, session: SessionDep) -> ClearingDetailOut:
    """A result with the snapshot of its inputs (its sha256 is `snapshot_hash`)."""
    row = clearings.get(session, reference)
    shown = clearing_out(row)
    fields = {name: getattr(shown, name) for name in AssistanceClearingOut.model_fields}
    return ClearingDetailOut(**fields, snapshot=json.loads(row.snapshot))


@router.get("/clearings/{reference}/notice")
def get_notice(reference: ReferencePath, _: Staff, session: SessionDep) -> NoticeOut:
    """事前告知 of a negative result (404 for a result that owes nothing)."""
    return NoticeOut.model_validate(notice.notice(session, reference))


@router.post("/annual-clearings", status_code=201)
def annual_clearing(
    body: AnnualClearingIn, actor: Admin, session: SessionDep, clock: ClockDep
) -> AnnualClearingOut:
    """定时清算 of a region and year: every recipient with an item in the year gets a result,
    zero included (`Y<year>:<psn_no>`); 409 `annual-clearing-exists` the second time."""
    with session.begin():
        run, rows = clearings.clear_year(
            session, region_code=body.region, year=body.year, actor=actor, now=clock.now()
        )
        return AnnualClearingOut(
            region=run.region_code,
            year=run.year,
            persons=run.persons,
            made_at=run.made_at,
            clearings=[clearing_out(row) for row in rows],
        )


@router.get("/clearing-suggestions")
def list_suggestions(
    _: Staff,
    session: SessionDep,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    psn_no: PsnNo | None = None,
) -> list[SuggestionOut]:
    """实时清算提示 found by the 06:00 job, by region, psn_no and year."""
    rows = suggestions.listing(session, region)
    return [suggestion_out(row) for row in rows if psn_no is None or row.psn_no == psn_no]


@router.post("/clearing-suggestions/clear")
def clear_suggestions(
    body: ClearSuggestionsIn, actor: Operator, session: SessionDep, clock: ClockDep
) -> list[ClearedOut]:
    """Clear the listed person-years, or every suggestion of the region (`persons` null),
    each under `<reference_prefix>:<psn_no>:<year>`; a zero difference is skipped
    (`nothing-to-clear`), a reference already cleared with the same request replayed."""
    persons = None if body.persons is None else [(p.psn_no, p.year) for p in body.persons]
    with session.begin():
        outcomes = suggestions.clear_many(
            session,
            region_code=body.region,
            reference_prefix=body.reference_prefix,
            persons=persons,
            resolution=body.resolution,
            actor=actor,
            now=clock.now(),
        )
        return [
            ClearedOut(
                psn_no=item.psn_no,
                year=item.year,
                reference=item.reference,
                outcome=(
                    "nothing-to-clear"
                    if item.clearing is None
                    else ("cleared" if item.created else "replayed")
                ),
                clearing=None if item.clearing is None else clearing_out(item.clearing),
            )
            for item in outcomes
        ]
