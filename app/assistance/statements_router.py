"""Medical assistance, the hospitals' side (SPEC-ASSISTANCE A5, A10; issue 21.5): the
documents of a settlement, the monthly assistance statements, their actions and export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.assistance import documents, statement_export, statements
from app.assistance.statement_models import AssistanceStatement
from app.assistance.statement_schemas import (
    AssistanceStatementDetailOut,
    AssistanceStatementOut,
    BulkDocumentsIn,
    BulkDocumentsOut,
    DocumentRejectIn,
    DocumentsIn,
    DocumentsOut,
    StatementLineOut,
)
from app.auth.deps import Hospital, Operator, Reader, Staff
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.monthly.schemas import ConfirmIn, DisputeIn, Period
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor
from app.payables.machine import StatusValue
from app.payables.routes import add_document_actions, flow_fields, hospital_scope, page_out
from app.xlsx import response as xlsx_response

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)


def _documents_out(state: documents.State) -> DocumentsOut:
    return DocumentsOut(
        fixmedins_code=state.fixmedins_code,
        setl_id=state.setl_id,
        documents=state.documents,  # type: ignore[arg-type]
        payable=state.payable,
    )


def _request(body: DocumentsIn) -> documents.Request:
    return documents.Request(body.fixmedins_code, body.setl_id, body.documents)


@router.post("/documents")
def record_documents(
    body: DocumentsIn, actor: Hospital, session: SessionDep, clock: ClockDep
) -> DocumentsOut:
    """The hospital records documents of one of its settlements (疾病诊断证明书 `diagnosis`,
    救助结算单 `assistance_sheet`, 垫付统计表 `advance_form`); recording a recorded one
    changes nothing, a rejected one is replaced. `payable`: all three recorded."""
    with session.begin():
        [state] = documents.record(
            session, [_request(body)], bulk=False, actor=actor, now=clock.now()
        )
        return _documents_out(state)


@router.post("/documents/bulk")
def record_documents_bulk(
    body: BulkDocumentsIn, actor: Hospital, session: SessionDep, clock: ClockDep
) -> BulkDocumentsOut:
    """Documents of many settlements, all or nothing (422 naming `items.N.field`)."""
    with session.begin():
        states = documents.record(
            session,
            [_request(item) for item in body.items],
            bulk=True,
            actor=actor,
            now=clock.now(),
        )
        return BulkDocumentsOut(items=[_documents_out(state) for state in states])


@router.post("/documents/reject")
def reject_document(
    body: DocumentRejectIn, actor: Operator, session: SessionDep, clock: ClockDep
) -> DocumentsOut:
    """An operator rejects one document (不真实) with a reason: the settlement is not payable
    until the hospital records it again."""
    with session.begin():
        state = documents.reject(
            session,
            fixmedins_code=body.fixmedins_code,
            setl_id=body.setl_id,
            document=body.document,
            reason=body.reason,
            actor=actor,
            now=clock.now(),
        )
        return _documents_out(state)


def _fields(s: AssistanceStatement) -> dict[str, Any]:
    return {
        **flow_fields(s),
        "period": s.period,
        "lines_amount": s.lines_fen,
        "negative_amount": s.negative_fen,
        "offset": s.offset_fen,
        "amount": s.amount_fen,
        "settlements": s.settlements,
        "carried": s.carried,
        "confirmed_by": s.confirmed_by,
    }


def statement_out(s: AssistanceStatement) -> AssistanceStatementOut:
    return AssistanceStatementOut(**_fields(s))


@router.get("/statements")
def list_statements(
    principal: Reader,
    session: SessionDep,
    period: Period | None = None,
    region_code: str | None = None,
    fixmedins_code: str | None = None,
    status: StatusValue | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[AssistanceStatementOut]:
    """The assistance statements (a hospital sees only its own), in id order."""
    rows = statements.list_statements(
        session,
        fixmedins_code=hospital_scope(principal, fixmedins_code),
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
    period: Period | None = None,
    region_code: str | None = None,
    fixmedins_code: str | None = None,
    status: StatusValue | None = None,
) -> StreamingResponse:
    """The assistance statements as XLSX (医疗救助月结算汇总表), the list's filters."""
    rows = statements.list_statements(
        session,
        fixmedins_code=fixmedins_code,
        period=period,
        status=status,
        region_code=region_code,
        after_id=None,
        limit=100_000,
    )
    book = statement_export.statement_list(
        session, rows, period=period, region_code=region_code, now=clock.now()
    )
    return xlsx_response(book, f"assistance-statements-{period or 'all'}.xlsx")


@router.get("/statements/{statement_id}")
def get_statement(
    statement_id: IdPath, principal: Reader, session: SessionDep
) -> AssistanceStatementDetailOut:
    """One statement with its lines (a negative line takes back a revoked settlement)."""
    statement = statements.FLOW.get(session, statement_id, actor=principal)
    lines = [
        StatementLineOut(setl_id=setl_id, amount=line.amount_fen, negative=line.negative)
        for line, setl_id in statements.lines_of(session, statement.id)
    ]
    return AssistanceStatementDetailOut(**_fields(statement), lines=lines)


STATEMENT_ACTIONS = {
    "confirm": "The hospital confirms its assistance statement.",
    "dispute": "The hospital disputes; the statement goes back to the operator.",
    "recompute": "The operator recomputes a disputed statement (its lines and offset released).",
    "approve": "Approve (maker–checker): posts it; an amount > 0 is paid from the 610 fund,"
    " = 0\nsettled, < 0 a receivable. Re-approving a failed payment resends it.",
}
add_document_actions(
    router,
    statements.FLOW,
    statement_out,
    (ConfirmIn, DisputeIn),
    STATEMENT_ACTIONS,
    path="/statements",
    id_name="statement_id",
)
