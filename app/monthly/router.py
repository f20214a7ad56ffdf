"""Monthly settlement API: declarations, smart audit, procurement advances, statements,
receivables and exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from fastapi.responses import StreamingResponse

from app.auth.deps import Accountant, Hospital, Operator, Reader, Staff, scope
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.institutions import service as institutions
from app.institutions.models import ASSISTANCE_INSUTYPE
from app.monthly import advances, audits_router, declarations, export, receivables, statements
from app.monthly.models import Declaration, MonthlyStatement, ProcurementAdvance
from app.monthly.schemas import (
    AdvanceIn,
    AdvanceOut,
    ConfirmIn,
    DeclarationIn,
    DeclarationOut,
    DisputeIn,
    ReceivableOut,
    ReopenIn,
    RepaymentIn,
    StatementOut,
)
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor
from app.payables.machine import StatusValue
from app.payables.routes import add_document_actions, flow_fields, hospital_scope, page_out

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["monthly settlement"])
PeriodPath = Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])]


def _declaration_out(row: Declaration) -> DeclarationOut:
    return DeclarationOut(
        fixmedins_code=row.fixmedins_code,
        insutype=row.insutype,
        period=row.period,
        declared_at=row.declared_at,
        declared_by=row.declared_by,
        late=row.late,
    )


@router.post("/declarations", status_code=201)
def declare(
    body: DeclarationIn, actor: Hospital, session: SessionDep, clock: ClockDep, response: Response
) -> DeclarationOut:
    """Declare a period (月度申报), in order, by the deadline (the 15th of M+1 by default, on or
    after), with every day reconciled."""
    with session.begin():
        row, created = declarations.declare(
            session, body.fixmedins_code, body.insutype, body.period, actor=actor, now=clock.now()
        )
        if not created:
            response.status_code = 200
        return _declaration_out(row)


@router.get("/declarations/{fixmedins_code}/{insutype}/{period}")
def get_declaration(
    fixmedins_code: str,
    insutype: Literal["310", "390"],
    period: PeriodPath,
    principal: Reader,
    session: SessionDep,
) -> DeclarationOut:
    scope(principal, fixmedins_code)
    return _declaration_out(declarations.get(session, fixmedins_code, insutype, period))


@router.post("/declarations/{fixmedins_code}/{insutype}/{period}/reopen", status_code=201)
def reopen(
    fixmedins_code: str,
    insutype: Literal["310", "390"],
    period: PeriodPath,
    body: ReopenIn,
    actor: Operator,
    session: SessionDep,
    clock: ClockDep,
) -> dict[str, str]:
    """Let the institution declare the period after its deadline."""
    with session.begin():
        declarations.reopen(
            session, fixmedins_code, insutype, period, body.reason, actor=actor, now=clock.now()
        )
    return {
        "fixmedins_code": fixmedins_code,
        "insutype": insutype,
        "period": period,
        "status": "reopened",
    }


router.include_router(audits_router.router)


def _advance_out(row: ProcurementAdvance) -> AdvanceOut:
    return AdvanceOut(
        fixmedins_code=row.fixmedins_code,
        insutype=row.insutype,
        period=row.period,
        amount=row.amount_fen,
        reference=row.reference,
        registered_at=row.registered_at,
        taken_statement_id=row.taken_statement_id,
    )


@router.post("/procurement-advances", status_code=201)
def register_advance(
    body: AdvanceIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> AdvanceOut:
    """A procurement advance paid to suppliers (药耗招采垫付); idempotent on the reference."""
    with session.begin():
        row, created = advances.register(
            session,
            code=body.fixmedins_code,
            insutype=body.insutype,
            period=body.period,
            amount_fen=body.amount,
            reference=body.reference,
            actor=actor,
            now=clock.now(),
        )
        if not created:
            response.status_code = 200
        return _advance_out(row)


@router.get("/procurement-advances")
def list_advances(
    principal: Reader,
    session: SessionDep,
    fixmedins_code: str | None = None,
    period: str | None = None,
) -> list[AdvanceOut]:
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    return [
        _advance_out(row)
        for row in advances.list_advances(session, code=fixmedins_code, period=period, limit=500)
    ]


def statement_out(s: MonthlyStatement) -> StatementOut:
    return StatementOut(
        **flow_fields(s),
        period=s.period,
        deposit_rate=s.deposit_rate_bp,
        fund_pay=s.fund_pay_fen,
        deposit=s.deposit_fen,
        ratio_amount=s.ratio_amount_fen,
        audit=s.audit_fen,
        daily_paid=s.daily_paid_fen,
        procurement=s.procurement_fen,
        returned=s.returned_fen,
        offset=s.offset_fen,
        net=s.net_fen,
        confirmed_by=s.confirmed_by,
    )


@router.get("/statements")
def list_statements(
    principal: Reader,
    session: SessionDep,
    fixmedins_code: str | None = None,
    insutype: Literal["310", "390"] | None = None,
    period: str | None = None,
    status: StatusValue | None = None,
    region_code: str | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[StatementOut]:
    code = hospital_scope(principal, fixmedins_code)
    rows = statements.list_statements(
        session,
        fixmedins_code=code,
        insutype=insutype,
        period=period,
        status=status,
        region_code=region_code,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    return page_out(rows, limit, statement_out)


@router.get("/statements/export.xlsx", response_class=StreamingResponse)
def export_statements(
    _: Staff,
    session: SessionDep,
    clock: ClockDep,
    period: str | None = None,
    region_code: str | None = None,
) -> StreamingResponse:
    """The statements of a period as XLSX: one row per statement, totals, names."""
    rows = statements.list_statements(
        session,
        fixmedins_code=None,
        insutype=None,
        period=period,
        status=None,
        region_code=region_code,
        after_id=None,
        limit=100_000,
    )
    book = export.statement_list(
        session, rows, period=period, region_code=region_code, now=clock.now()
    )
    return export.xlsx_response(book, f"statements-{period or 'all'}.xlsx")


@router.get("/statements/{statement_id}")
def get_statement(statement_id: IdPath, principal: Reader, session: SessionDep) -> StatementOut:
    return statement_out(statements.FLOW.get(session, statement_id, actor=principal))


@router.get("/statements/{statement_id}/export.xlsx", response_class=StreamingResponse)
def export_statement(
    statement_id: IdPath, principal: Reader, session: SessionDep, clock: ClockDep
) -> StreamingResponse:
    """One statement with its components and detail lines as XLSX."""
    statement = statements.FLOW.get(session, statement_id, actor=principal)
    return export.xlsx_response(
        export.statement_detail(session, statement, now=clock.now()),
        f"statement-{statement.id}.xlsx",
    )


STATEMENT_ACTIONS = {
    "confirm": "The hospital confirms (费用确认).",
    "dispute": "The hospital disputes; the statement goes back to the operator.",
    "recompute": "The operator recomputes a disputed statement (its offset and taken items"
    " released).",
    "approve": "Approve (maker–checker): posts it; net > 0 is paid with the next submission,"
    " net = 0\nsettled, net < 0 a receivable. Re-approving a failed payment resends it.",
}
add_document_actions(
    router, statements.FLOW, statement_out, (ConfirmIn, DisputeIn), STATEMENT_ACTIONS
)


@router.get("/receivables")
def list_receivables(
    principal: Reader,
    session: SessionDep,
    region_code: str | None = None,
    insutype: Literal["310", "390", "610"] | None = None,
    fixmedins_code: str | None = None,
) -> list[ReceivableOut]:
    """Per institution and insurance type: its enrolled basic funds and, where its region
    has the assistance fund `610` (no enrolment needed: SPEC-ASSISTANCE A5), that one too."""
    if principal.is_hospital:
        if fixmedins_code is not None:  # another institution's code: 404, never its data
            scope(principal, fixmedins_code)
        fixmedins_code = principal.fixmedins_code
    result = []
    for institution in institutions.list_institutions(
        session, region_code=region_code, after_code=None, limit=10_000, only_code=fixmedins_code
    ):
        types = [
            enrollment.insutype
            for enrollment in institutions.enrollments(session, institution.code)
        ]
        if institutions.find_fund_ledger(session, institution.region_code, ASSISTANCE_INSUTYPE):
            types.append(ASSISTANCE_INSUTYPE)
        for kind in types:
            if insutype and kind != insutype:
                continue
            owed, open_amount = receivables.balance(
                session, institution.region_code, kind, institution.code
            )
            result.append(
                ReceivableOut(
                    region_code=institution.region_code,
                    insutype=kind,
                    fixmedins_code=institution.code,
                    balance=owed,
                    open=open_amount,
                )
            )
    return result


@router.post("/receivables/{region_code}/{insutype}/{fixmedins_code}/repayments", status_code=201)
def repay(
    region_code: str,
    insutype: Literal["310", "390", "610"],
    fixmedins_code: str,
    body: RepaymentIn,
    actor: Accountant,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> ReceivableOut:
    """Cash repaid by the institution (现金追款), with the incoming receipt number; insutype
    `610` repays a hospital's assistance receivable (a negative assistance statement)."""
    with session.begin():
        _, created = receivables.repay(
            session,
            region=region_code,
            insutype=insutype,
            code=fixmedins_code,
            amount_fen=body.amount,
            receipt_no=body.receipt_no,
            actor=actor,
            now=clock.now(),
        )
        if not created:
            response.status_code = 200
        owed, open_amount = receivables.balance(session, region_code, insutype, fixmedins_code)
        return ReceivableOut(
            region_code=region_code,
            insutype=insutype,
            fixmedins_code=fixmedins_code,
            balance=owed,
            open=open_amount,
        )
