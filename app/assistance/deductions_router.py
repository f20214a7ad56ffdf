"""Medical-assistance API, issue 22 item 3: deduction data (扣减数据) one by one or from a
file, and the person-year (due, granted, difference) over the stored data. Case workers
(operators) record; staff read; hospitals get 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile

from app.assistance import deduction_import, deductions, policy_source, recipients
from app.assistance.deduction_models import DeductionRecord
from app.assistance.deduction_schemas import (
    DeductionImportOut,
    DeductionIn,
    DeductionOut,
    GrantedOut,
    PersonYearDeductionOut,
    PersonYearItemOut,
    PersonYearOut,
)
from app.assistance.person_year import PersonYear, person_year
from app.auth.deps import Operator, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)

PsnPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,30}$", description="人员编号")]
YearPath = Annotated[int, Path(ge=2000, le=2099, description="calendar year")]


def deduction_out(row: DeductionRecord) -> DeductionOut:
    return DeductionOut(
        reference=row.reference,
        type=row.type,  # type: ignore[arg-type]
        psn_no=row.psn_no,
        year=row.year,
        fixmedins_code=row.fixmedins_code,
        setl_id=row.setl_id,
        invoice_no=row.invoice_no,
        item_key=row.item_key,
        amount=row.amount_fen,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


@router.post("/deductions", status_code=201)
def record_deduction(
    body: DeductionIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> DeductionOut:
    """One deduction record (A7): a per-item type names its item, `burden_relief` a year.
    201 recorded; 200 the same reference with the same content; 409 with other content;
    404 an unknown or revoked item (or a person not in the register); 422 another
    person's item."""
    with session.begin():
        row, created = deductions.record(session, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return deduction_out(row)


@router.get("/deductions")
def list_deductions(
    _: Staff,
    session: SessionDep,
    psn_no: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,30}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2099)] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[DeductionOut]:
    rows = deductions.listing(
        session, psn_no=psn_no, year=year, after_id=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    return Page(items=[deduction_out(row) for row in page], next_cursor=next_cursor)


@router.post("/deduction-imports", status_code=201)
def import_deductions(
    file: Annotated[UploadFile, File(description="XLSX or CSV: a header row, one record a row")],
    actor: Operator,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> DeductionImportOut:
    """A file of deduction records, all or nothing: 422 lists every bad row as
    `rows.<N>.<field>` (N: the row number as the spreadsheet shows it); 409 when the only
    refusals are references recorded with other content. Each row is idempotent on its
    reference: 201 when the file recorded something, 200 when every row was a replay."""
    content = file.file.read(deduction_import.UPLOAD_BYTES_MAX + 1)
    with session.begin():
        results = deduction_import.import_file(
            session, file.filename or "", content, actor=actor, now=clock.now()
        )
        recorded = sum(1 for _, created in results if created)
        if recorded == 0:
            response.status_code = 200
        return DeductionImportOut(
            rows=len(results),
            recorded=recorded,
            replayed=len(results) - recorded,
            deductions=[deduction_out(row) for row, _ in results],
        )


def person_year_out(found: PersonYear) -> PersonYearOut:
    result = found.result
    return PersonYearOut(
        psn_no=found.psn_no,
        year=found.year,
        region_code=found.region_code,
        items=[
            PersonYearItemOut(
                key=item.key,
                date=found.stored[item.key].item.day,
                at=item.at,
                visit=item.visit,
                gross_base=item.gross_base_fen,
                deducted=item.deducted_fen,
                relief=item.relief_fen,
                base=item.base_fen,
                category=item.category,
                amount=item.amount_fen,
                maf_pay=found.stored[item.key].maf_pay_fen,
            )
            for item in result.items
        ],
        deductions=[
            PersonYearDeductionOut(
                reference=record.reference,
                type=record.type,  # type: ignore[arg-type]
                item_key=record.item_key,
                amount=record.amount_fen,
                counted=counts,
            )
            for record, counts in found.deductions
        ],
        relief=result.relief_fen,
        relief_spread=result.relief_spread_fen,
        due=found.due_fen,
        granted=found.granted_fen,
        granted_parts=GrantedOut(
            maf_pay=found.granted.maf_pay_fen,
            applications=found.granted.applications_fen,
            clearings=found.granted.clearings_fen,
        ),
        difference=found.difference_fen,
    )


@router.get("/persons/{psn_no}/years/{year}")
def get_person_year(
    psn_no: PsnPath, year: YearPath, _: Staff, session: SessionDep
) -> PersonYearOut:
    """A person-year afresh from everything stored (A4, A7): its items in A4's order with
    their bases, deductions, relief shares, chosen categories and amounts; due; granted
    (Σ maf_pay of unrevoked settlements; applications and clearings with part 2);
    difference = due − granted. 404 for a person not in the register."""
    recipient = recipients.get(session, psn_no)
    policy_for = policy_source.policy_for_region(session, recipient.region_code)
    return person_year_out(person_year(session, psn_no, year, policy_for))
