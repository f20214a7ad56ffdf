"""The bank's result callbacks (inbox) and the instruction list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import failpoints
from app.auth.deps import Reader, Staff
from app.bank import service, signing
from app.bank.models import PaymentInstruction
from app.bank.schemas import CallbackIn, InstructionStatusValue
from app.deps import ClockDep, SessionDep, SettingsDep
from app.errors import Conflict, FieldError, Invalid, NotFound, Unauthorized
from app.http import StrictJSONRoute, strict_loads
from app.inputs import check_json
from app.money import YuanOut
from app.pagination import CursorQuery, LimitQuery, Page, decode_text_cursor, page_of

router = APIRouter(prefix="/api/v1/bank", route_class=StrictJSONRoute, tags=["bank"])


async def raw_body(request: Request) -> bytes:
    """The exact bytes (signatures are over the raw body)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


class CallbackAnswer(BaseModel):
    event_id: str
    outcome: str


@router.post(
    "/receipts",
    responses={401: {}, 404: {}, 409: {}, 413: {}, 422: {}},
    response_model=CallbackAnswer,
)
def receive_callback(
    request: Request, body: RawBody, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> JSONResponse:
    """A signed result from the bank (Standard Webhooks). Checks in order: size (413),
    signature and timestamp (401), strict JSON with string amounts (422), event replay (200)
    or another body under its id (409), unknown instruction (404), contradiction (409)."""
    now = clock.now()
    secrets = [settings.bank_secret, *settings.bank_secrets_previous]
    try:
        event_id = signing.verify(secrets, request.headers, body, now)
    except signing.SignatureError as error:
        raise Unauthorized(str(error)) from None
    try:
        parsed = strict_loads(body)
        check_json(parsed)  # the text rule (app/inputs.py), after the signature
        callback = CallbackIn.model_validate(parsed)
    except ValueError as error:
        if isinstance(error, ValidationError):
            raise Invalid(
                "the callback is not valid",
                errors=[
                    FieldError(".".join(str(p) for p in e["loc"]) or "body", e["type"], e["msg"])
                    for e in error.errors()
                ],
            ) from None
        raise Invalid.field("body", "json_invalid", f"malformed JSON: {error}") from None
    if callback.event_id != event_id:
        raise Invalid.field("event_id", "matches_webhook_id", "event_id differs from webhook-id")
    stored = service.StoreOutcome.NEW
    for attempt in range(2):
        try:
            with session.begin():
                stored = service.store_event(session, event_id, body, parsed, now)
            break
        except IntegrityError:
            if attempt:  # the concurrent delivery committed it: read it back once more
                raise
    if stored == service.StoreOutcome.CONFLICT:
        raise Conflict(f"event {event_id} was received before with another body")
    failpoints.hit("bank.callback.after_store")
    with session.begin():
        result = service.apply_event(session, event_id, now)
        failpoints.hit("bank.callback.after_apply")
    failpoints.hit("bank.callback.after_commit")
    if result.outcome == service.EventOutcome.UNKNOWN_INSTRUCTION:
        raise NotFound(f"no instruction {callback.instruction_id}")
    if result.outcome in (service.EventOutcome.EARLY, service.EventOutcome.CONTRADICTION):
        raise Conflict(result.detail)
    return JSONResponse({"event_id": event_id, "outcome": result.detail}, status_code=200)


class InstructionOut(BaseModel):
    instruction_id: str
    kind: str
    region_code: str
    insutype: str
    fixmedins_code: str
    amount: YuanOut
    status: str
    purpose: str
    requested_date: str
    created_at: datetime
    sent_at: datetime | None
    result_at: datetime | None
    receipt_no: str | None
    failure_reason: str | None
    resend_of: str | None


def _out(row: PaymentInstruction) -> InstructionOut:
    return InstructionOut(
        instruction_id=row.instruction_id,
        kind=row.kind,
        region_code=row.region_code,
        insutype=row.insutype,
        fixmedins_code=row.fixmedins_code,
        amount=row.amount_fen,
        status=row.status,
        purpose=row.purpose,
        requested_date=row.requested_date.isoformat(),
        created_at=row.created_at,
        sent_at=row.sent_at,
        result_at=row.result_at,
        receipt_no=row.receipt_no,
        failure_reason=row.failure_reason,
        resend_of=row.resend_of,
    )


@router.get("/instructions")
def list_instructions(
    _: Staff,
    session: SessionDep,
    status: InstructionStatusValue | None = None,
    fixmedins_code: str | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[InstructionOut]:
    query = select(PaymentInstruction).order_by(PaymentInstruction.instruction_id).limit(limit + 1)
    if status:
        query = query.where(PaymentInstruction.status == status)
    if fixmedins_code:
        query = query.where(PaymentInstruction.fixmedins_code == fixmedins_code)
    after = decode_text_cursor(cursor)
    if after is not None:
        query = query.where(PaymentInstruction.instruction_id > after)
    rows = list(session.scalars(query))
    page, next_cursor = page_of(rows, limit, lambda row: row.instruction_id)
    return Page(items=[_out(r) for r in page], next_cursor=next_cursor)


@router.get("/instructions/{instruction_id}")
def get_instruction(instruction_id: str, principal: Reader, session: SessionDep) -> InstructionOut:
    row = session.get(PaymentInstruction, instruction_id)
    # Another hospital's instruction reads exactly as one that does not exist: ids are
    # predictable, so a different answer would tell on which days another was paid.
    if row is None or (principal.is_hospital and principal.fixmedins_code != row.fixmedins_code):
        raise NotFound(f"no instruction {instruction_id}")
    return _out(row)
