"""Settlement intake API (national 2304/2305/3201 field names): hospitals write their own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import failpoints
from app.auth.deps import Hospital, Reader, scope
from app.deps import ClockDep, SessionDep
from app.errors import Invalid
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from app.settlements import service
from app.settlements.models import Revocation, Settlement, SettlementList
from app.settlements.rules import ReconciliationStatus, SettlementStatus, UploadOutcome
from app.settlements.schemas import (
    BulkIn,
    BulkItemResult,
    BulkOut,
    DayStatusOut,
    ItemError,
    ListIn,
    ReconciliationIn,
    ReconciliationOut,
    RevocationOut,
    RevokeIn,
    SettlementIn,
    SettlementOut,
)

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["settlements"])

RECONCILIATION_RANGE_DAYS_MAX = 366


def _out(
    settlement: Settlement,
    revocation: Revocation | None,
    list_no: str | None,
    status: SettlementStatus,
) -> SettlementOut:
    return SettlementOut(
        fixmedins_code=settlement.fixmedins_code,
        setl_id=settlement.setl_id,
        mdtrt_id=settlement.mdtrt_id,
        insutype=settlement.insutype,
        med_type=settlement.med_type,
        insuplc_admdvs=settlement.insuplc_admdvs,
        setl_time=settlement.setl_time,
        setl_date=settlement.setl_date,
        period=settlement.period,
        batch_date=settlement.batch_date,
        medfee_sumamt=settlement.medfee_sumamt_fen,
        hifp_pay=settlement.hifp_pay_fen,
        hifob_pay=settlement.hifob_pay_fen,
        fund_amount=settlement.fund_amount_fen,
        inscp_scp_amt=settlement.inscp_scp_amt_fen,
        hifmi_pay=settlement.hifmi_pay_fen,
        cvlserv_pay=settlement.cvlserv_pay_fen,
        hifes_pay=settlement.hifes_pay_fen,
        maf_pay=settlement.maf_pay_fen,
        oth_pay=settlement.oth_pay_fen,
        status=status,
        revocation=RevocationOut(
            reason=revocation.reason,
            revoked_at=revocation.revoked_at,
            revoked_date=revocation.revoked_date,
            period=revocation.period,
        )
        if revocation
        else None,
        list_no=list_no,
    )


def _full_out(session: Session, settlement: Settlement) -> SettlementOut:
    revocation = session.scalar(select(Revocation).where(Revocation.settlement_id == settlement.id))
    listed = session.get(SettlementList, settlement.id)
    status = service.statuses_of(session, [settlement.id])[settlement.id]
    return _out(settlement, revocation, listed.list_no if listed else None, status)


@router.post(
    "/settlements",
    status_code=201,
    responses={200: {"description": "identical replay: the stored record"}, 409: {}},
)
def upload(
    body: SettlementIn, actor: Hospital, session: SessionDep, clock: ClockDep, response: Response
) -> SettlementOut:
    """Upload one discharge settlement (逐笔上传). 201 new, 200 identical replay, 409 same
    setl_id with other content, 422 invalid (each refusal names field and rule)."""
    with session.begin():
        settlement, created = service.upload_one(session, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return _full_out(session, settlement)


@router.post("/settlements/bulk")
def upload_bulk(body: BulkIn, actor: Hospital, session: SessionDep, clock: ClockDep) -> BulkOut:
    """Up to 5,000 records, each judged on its own; what is valid is stored."""
    with session.begin():
        outcomes = service.upload_bulk(session, body.items, actor=actor, now=clock.now())
    failpoints.hit("settlements.bulk.after_commit")
    counts = {kind.value: 0 for kind in UploadOutcome}
    for outcome in outcomes:
        counts[outcome.outcome] += 1
    return BulkOut(
        **counts,
        results=[
            BulkItemResult(
                index=o.index,
                setl_id=o.setl_id,
                outcome=o.outcome,
                errors=[ItemError(field=e.field, rule=e.rule, message=e.message) for e in o.errors],
            )
            for o in outcomes
        ],
    )


@router.post("/settlements/{fixmedins_code}/{setl_id}/revoke", status_code=201)
def revoke(
    fixmedins_code: str,
    setl_id: str,
    body: RevokeIn,
    actor: Hospital,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> SettlementOut:
    """Revoke a settlement (冲销) once; repeating returns the first revocation (200)."""
    with session.begin():
        _, created = service.revoke(
            session, fixmedins_code, setl_id, body.reason, actor=actor, now=clock.now()
        )
        if not created:
            response.status_code = 200
        settlement = service.get_settlement(session, fixmedins_code, setl_id, actor=actor)
        return _full_out(session, settlement)


@router.post("/settlements/{fixmedins_code}/{setl_id}/list", status_code=201)
def record_list(
    fixmedins_code: str,
    setl_id: str,
    body: ListIn,
    actor: Hospital,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> SettlementOut:
    """Record that the settlement list (national 4101A) was uploaded; idempotent."""
    with session.begin():
        _, created = service.record_list(
            session, fixmedins_code, setl_id, body.list_no, actor=actor, now=clock.now()
        )
        if not created:
            response.status_code = 200
        settlement = service.get_settlement(session, fixmedins_code, setl_id, actor=actor)
        return _full_out(session, settlement)


@router.get("/settlements")
def list_settlements(
    principal: Reader,
    session: SessionDep,
    fixmedins_code: str | None = None,
    insutype: Literal["310", "390"] | None = None,
    setl_date: date | None = None,
    period: Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")] = None,
    status: SettlementStatus | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[SettlementOut]:
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    rows = service.list_settlements(
        session,
        fixmedins_code=fixmedins_code,
        insutype=insutype,
        setl_date=setl_date,
        period=period,
        status=status,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row[0].id)
    statuses = service.statuses_of(session, [row[0].id for row in page])
    return Page(items=[_out(s, r, n, statuses[s.id]) for s, r, n in page], next_cursor=next_cursor)


@router.get("/settlements/{fixmedins_code}/{setl_id}")
def get_settlement(
    fixmedins_code: str, setl_id: str, principal: Reader, session: SessionDep
) -> SettlementOut:
    settlement = service.get_settlement(session, fixmedins_code, setl_id, actor=principal)
    return _full_out(session, settlement)


@router.post("/reconciliations", status_code=201)
def reconcile(
    body: ReconciliationIn, actor: Hospital, session: SessionDep, clock: ClockDep
) -> ReconciliationOut:
    """Post a day's totals (对账); RECONCILED when they equal the held totals now."""
    with session.begin():
        row = service.reconcile(session, body, actor=actor, now=clock.now())
        return ReconciliationOut(
            fixmedins_code=row.fixmedins_code,
            insutype=row.insutype,
            setl_date=row.setl_date,
            status=ReconciliationStatus(row.status),
            count=row.submitted_count,
            fund_amount=row.submitted_fund_fen,
            held_count=row.held_count,
            held_fund_amount=row.held_fund_fen,
            differences=row.differences,
        )


@router.get("/reconciliations")
def day_statuses(
    fixmedins_code: str,
    insutype: Literal["310", "390"],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    principal: Reader,
    session: SessionDep,
) -> list[DayStatusOut]:
    """Every day with activity in [from, to] and whether it is reconciled now."""
    scope(principal, fixmedins_code)
    if last < first or last - first > timedelta(days=RECONCILIATION_RANGE_DAYS_MAX):
        raise Invalid.field(
            "to", "date_range", f"from ≤ to, at most {RECONCILIATION_RANGE_DAYS_MAX} days"
        )
    return [
        DayStatusOut(
            setl_date=s.day,
            held_count=s.held.count,
            held_fund_amount=s.held.fund_fen,
            status=s.status,
        )
        for s in service.day_statuses(session, fixmedins_code, insutype, first, last)
    ]
