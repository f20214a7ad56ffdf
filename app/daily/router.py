"""Daily batches: accountants approve or reject, operators hold back lines and push again."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import xlsx
from app.auth.deps import Accountant, Operator, Reader, Staff, scope
from app.bank import service as bank
from app.daily import export, service
from app.daily.models import DailyBatch, DailyLine
from app.daily.rules import BatchStatus
from app.daily.schemas import BatchOut, DetailOut, HoldIn, LineDetailOut, LineOut, RejectIn
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from app.workdays import service as workdays

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["daily disbursement"])


def _lines_out(
    session: Session, batches: dict[int, DailyBatch], lines: list[DailyLine]
) -> list[LineOut]:
    statuses = bank.statuses(
        session, [line.instruction_id for line in lines if line.instruction_id]
    )
    result = []
    for line in lines:
        batch = batches[line.batch_id]
        result.append(
            LineOut(
                batch_id=batch.id,
                business_date=batch.business_date,
                region_code=batch.region_code,
                insutype=batch.insutype,
                fixmedins_code=line.fixmedins_code,
                pay_date=batch.pay_date,
                settlements=line.settlement_count,
                fund_total=line.fund_total_fen,
                amount=line.amount_fen,
                late=line.late,
                held=line.held,
                withdrawn=line.withdrawn_at is not None,
                instruction_id=line.instruction_id,
                status=service.line_status(line, statuses.get(line.instruction_id or "")),
            )
        )
    return result


def _batch_out(
    session: Session,
    batch: DailyBatch,
    with_lines: bool,
    approvers: list[str] | None = None,
    warnings: dict[int, str | None] | None = None,
) -> BatchOut:
    """A batch as the API shows it; a list passes its page's approvers (one query) and a
    per-year memo of the calendar warning."""
    if approvers is None:
        approvers = [a.approver for a in service.approvals(session, batch)]
    year = batch.pay_date.year
    if warnings is None or year not in warnings:
        warning = workdays.unconfirmed_warning(session, batch.pay_date)
        if warnings is not None:
            warnings[year] = warning
    else:
        warning = warnings[year]
    lines = (
        _lines_out(session, {batch.id: batch}, service.lines_of(session, [batch.id]))
        if with_lines
        else []
    )
    return BatchOut(
        id=batch.id,
        region_code=batch.region_code,
        insutype=batch.insutype,
        business_date=batch.business_date,
        pay_date=batch.pay_date,
        status=BatchStatus(batch.status),
        generated_at=batch.generated_at,
        pushed_at=batch.pushed_at,
        pushed_by=batch.pushed_by,
        approvals_required=batch.approvals_required,
        approved_by=approvers,
        rejected_reason=batch.rejected_reason,
        submitted_at=batch.submitted_at,
        settlements=batch.settlement_count,
        fund_total=batch.fund_total_fen,
        amount=batch.amount_fen,
        calendar_warning=warning,
        lines=lines,
    )


@router.get("/daily-batches")
def list_batches(
    _: Staff,
    session: SessionDep,
    region_code: str | None = None,
    insutype: Literal["310", "390"] | None = None,
    status: BatchStatus | None = None,
    business_date: date | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[BatchOut]:
    rows = service.list_batches(
        session,
        region_code=region_code,
        insutype=insutype,
        status=status,
        business_date=business_date,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    approvers = service.approvers_of(session, page)
    warnings: dict[int, str | None] = {}
    items = [_batch_out(session, b, False, approvers[b.id], warnings) for b in page]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/daily-batches/{batch_id}")
def get_batch(batch_id: IdPath, _: Staff, session: SessionDep) -> BatchOut:
    """A batch with its summary lines (支付汇总单)."""
    return _batch_out(session, service.get_batch(session, batch_id), True)


@router.get("/daily-batches/{batch_id}/export.xlsx", response_class=StreamingResponse)
def export_batch(
    batch_id: IdPath, _: Staff, session: SessionDep, clock: ClockDep
) -> StreamingResponse:
    """A batch as XLSX: the electronic payment summary and its details (电子支付汇总单及明细)."""
    batch = service.get_batch(session, batch_id)
    book = export.batch_workbook(session, batch, now=clock.now())
    return xlsx.response(book, f"daily-batch-{batch.business_date}-{batch.id}.xlsx")


@router.get("/daily-batches/{batch_id}/lines/{fixmedins_code}")
def get_line(
    batch_id: IdPath, fixmedins_code: str, principal: Reader, session: SessionDep
) -> LineDetailOut:
    """One line with its details (明细); hospitals see their own."""
    scope(principal, fixmedins_code)
    # The line first: a batch without the hospital's line answers as a batch that does not
    # exist ("no line of …"), so a hospital cannot learn which other batches exist.
    line = service.get_line(session, batch_id, fixmedins_code)
    batch = service.get_batch(session, batch_id)
    out = _lines_out(session, {batch.id: batch}, [line])[0]
    details = [
        DetailOut(
            setl_id=settlement.setl_id,
            setl_date=settlement.setl_date,
            period=settlement.period,
            fund_amount=settlement.fund_amount_fen,
            daily_ratio=settlement.ratio_bp,
            daily_amount=settlement.daily_amount_fen,
        )
        for settlement in service.details_of(session, batch, fixmedins_code)
    ]
    return LineDetailOut(**dict(out), details=details)  # the values, not their yuan text


@router.post("/daily-batches/{batch_id}/approve")
def approve(batch_id: IdPath, actor: Accountant, session: SessionDep, clock: ClockDep) -> BatchOut:
    with session.begin():
        batch = service.approve(session, batch_id, actor=actor, now=clock.now())
        return _batch_out(session, batch, False)


@router.post("/daily-batches/{batch_id}/reject")
def reject(
    batch_id: IdPath, body: RejectIn, actor: Accountant, session: SessionDep, clock: ClockDep
) -> BatchOut:
    with session.begin():
        batch = service.reject(session, batch_id, body.reason, actor=actor, now=clock.now())
        return _batch_out(session, batch, False)


@router.post("/daily-batches/{batch_id}/lines/{fixmedins_code}/hold")
def hold_line(
    batch_id: IdPath,
    fixmedins_code: str,
    body: HoldIn,
    actor: Operator,
    session: SessionDep,
    clock: ClockDep,
) -> BatchOut:
    """Hold back (or release) a line of a rejected batch; its settlements then wait for the
    monthly settlement."""
    with session.begin():
        service.hold_line(
            session, batch_id, fixmedins_code, body.held, actor=actor, now=clock.now()
        )
        return _batch_out(session, service.get_batch(session, batch_id), True)


@router.post("/daily-batches/{batch_id}/push")
def push(batch_id: IdPath, actor: Operator, session: SessionDep, clock: ClockDep) -> BatchOut:
    """Push a rejected batch to finance again."""
    with session.begin():
        return _batch_out(
            session, service.push(session, batch_id, actor=actor, now=clock.now()), True
        )


@router.get("/daily-lines")
def list_lines(
    principal: Reader,
    session: SessionDep,
    fixmedins_code: str | None = None,
    business_date: date | None = None,
    region_code: str | None = None,
    insutype: Literal["310", "390"] | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[LineOut]:
    """Daily lines (hospitals: their own), oldest first."""
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    query = (
        select(DailyLine, DailyBatch)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .order_by(DailyLine.id)
        .limit(limit + 1)
    )
    for value, column in (
        (fixmedins_code, DailyLine.fixmedins_code),
        (business_date, DailyBatch.business_date),
        (region_code, DailyBatch.region_code),
        (insutype, DailyBatch.insutype),
    ):
        if value is not None:
            query = query.where(column == value)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(DailyLine.id > after)
    rows = list(session.execute(query).all())
    page, next_cursor = page_of(rows, limit, lambda row: row[0].id)
    batches = {batch.id: batch for _, batch in page}
    return Page(
        items=_lines_out(session, batches, [line for line, _ in page]), next_cursor=next_cursor
    )
