"""The yearly prepayment to the assistance fund (SPEC-ASSISTANCE A8): staff read; two
accountants approve with the finance bureau's reference; an accountant records its receipt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app import xlsx
from app.assistance import prepayment_export, prepayments
from app.assistance.policy_models import PrepaymentApproval, PrepaymentRow
from app.assistance.prepayment import PrepaymentStatus
from app.assistance.prepayment_schemas import ApprovalOut, ApproveIn, PrepaymentOut, ReceiveIn
from app.auth.deps import Accountant, Staff
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.institutions import service as institutions
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)


def prepayment_out(row: PrepaymentRow, approvals: list[PrepaymentApproval]) -> PrepaymentOut:
    return PrepaymentOut(
        id=row.id,
        year=row.year,
        region_code=row.region_code,
        computed_on=row.computed_on,
        actual=row.actual_fen,
        rate=row.rate_bp,
        due=row.due_fen,
        carried=row.carried_fen,
        transfer=row.transfer_fen,
        status=PrepaymentStatus(row.status),
        approvals=[
            ApprovalOut(approver=a.approver, approval_ref=a.approval_ref, approved_at=a.approved_at)
            for a in approvals
        ],
        bank_reference=row.bank_reference,
        received_at=row.received_at,
    )


def _one(session: SessionDep, row: PrepaymentRow) -> PrepaymentOut:
    return prepayment_out(row, prepayments.approvals(session, [row.id])[row.id])


@router.get("/prepayments")
def list_prepayments(
    principal: Staff,
    session: SessionDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: PrepaymentStatus | None = None,
) -> Page[PrepaymentOut]:
    rows = prepayments.listing(
        session,
        region_code=region_code,
        year=year,
        status=status,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    given = prepayments.approvals(session, [row.id for row in page])
    return Page(items=[prepayment_out(row, given[row.id]) for row in page], next_cursor=next_cursor)


@router.get("/prepayments/{prepayment_id}")
def get_prepayment(prepayment_id: IdPath, principal: Staff, session: SessionDep) -> PrepaymentOut:
    return _one(session, prepayments.get(session, prepayment_id))


@router.post("/prepayments/{prepayment_id}/approve")
def approve_prepayment(
    prepayment_id: IdPath, body: ApproveIn, actor: Accountant, session: SessionDep, clock: ClockDep
) -> PrepaymentOut:
    """One of the two approvals (two different accountants), each with the finance bureau's
    reference; the same accountant again with the same reference is a replay."""
    with session.begin():
        row = prepayments.approve(
            session, prepayment_id, body.approval_ref, actor=actor, now=clock.now()
        )
        return _one(session, row)


@router.post("/prepayments/{prepayment_id}/receive")
def receive_prepayment(
    prepayment_id: IdPath, body: ReceiveIn, actor: Accountant, session: SessionDep, clock: ClockDep
) -> PrepaymentOut:
    """The transfer arrived: RECEIVED, `bank:R:610` → `appropriation:R:610` (a zero transfer
    posts nothing). The same bank reference again is a replay, another one 409."""
    with session.begin():
        row = prepayments.receive(
            session, prepayment_id, body.bank_reference, actor=actor, now=clock.now()
        )
        return _one(session, row)


@router.get("/prepayments/{prepayment_id}/calculation.xlsx")
def prepayment_calculation(
    prepayment_id: IdPath, principal: Staff, session: SessionDep, clock: ClockDep
) -> StreamingResponse:
    """The calculation (预付款测算表): 上年度实际费用, 预付比例, 应预付额, 年末余额结转,
    应拨付额."""
    row = prepayments.get(session, prepayment_id)
    names = institutions.region_names(session)
    book = prepayment_export.calculation(
        row,
        prepayments.approvals(session, [row.id])[row.id],
        region_name=names.get(row.region_code, row.region_code),
        now=clock.now(),
    )
    return xlsx.response(book, f"prepayment-{row.region_code}-{row.year}.xlsx")
