"""Payment instructions (outbox) and the bank's results, flush-only in the caller's
transaction: an instruction is created with its ledger posting (sent after commit by
`app/bank/sending.py`), a result (callback or status query) is applied with its posting and
followed by the document it pays (through the handlers `app/wiring.py` registers)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app import failpoints
from app.alerts import service as alerts
from app.bank import rules
from app.bank.models import BankEvent, BankReturn, PaymentInstruction
from app.bank.rules import InstructionStatus
from app.db import any_of, in_chunks, insert_rows
from app.institutions.models import FundLedger, Institution
from app.ledger import entries
from app.ledger import service as ledger
from app.money import to_fen, yuan

INSTRUCTION = cast(Table, PaymentInstruction.__table__)
S = InstructionStatus


@dataclass(frozen=True)
class Payee:
    """A payee that is not an institution (a person: SPEC-ASSISTANCE A6), given with the
    instruction; an institution's account is read from the register."""

    account: str
    name: str
    bank_code: str


@dataclass(frozen=True)
class NewInstruction:
    instruction_id: str
    kind: str  # daily | monthly | annual | person
    fixmedins_code: str
    amount_fen: int
    purpose: str
    source_kind: str
    source_id: int
    period: str | None = None
    resend_of: str | None = None
    # a daily payment: its amount per period of its settlements (a return is owed per period)
    period_split: Sequence[tuple[str | None, int]] | None = None
    payee: Payee | None = None  # None: the institution `fixmedins_code`


def create_instructions(
    session: Session,
    fund: FundLedger,
    items: Sequence[NewInstruction],
    *,
    requested_date: date,
    now: datetime,
) -> None:
    """Save instructions (QUEUED) and post each one's `payable -> in_transit` (SPEC §6)."""
    if not items:
        return
    codes = sorted({item.fixmedins_code for item in items if item.payee is None})
    payees = {
        i.code: Payee(i.bank_account, i.bank_account_name, i.bank_code)
        for i in session.scalars(select(Institution).where(Institution.code.in_(codes)))
    }
    rows: list[dict[str, Any]] = []
    drafts = []
    for item in items:
        assert item.amount_fen > 0, "only non-zero amounts are sent"
        payee = item.payee or payees[item.fixmedins_code]
        rows.append(
            {
                "instruction_id": item.instruction_id,
                "kind": item.kind,
                "region_code": fund.region_code,
                "insutype": fund.insutype,
                "fixmedins_code": item.fixmedins_code,
                "amount_fen": item.amount_fen,
                "payer_account": fund.expenditure_account,
                "payer_name": fund.expenditure_account_name,
                "payee_account": payee.account,
                "payee_name": payee.name,
                "payee_bank_code": payee.bank_code,
                "purpose": item.purpose,
                "requested_date": requested_date,
                "status": S.QUEUED.value,
                "source_kind": item.source_kind,
                "source_id": item.source_id,
                "period": item.period,
                "resend_of": item.resend_of,
                "period_split": _split(item),
                "created_at": now,
                "attempts": 0,
            }
        )
        drafts.append(
            entries.instruction_sent(
                instruction_id=item.instruction_id,
                region_code=fund.region_code,
                insutype=fund.insutype,
                fixmedins_code=item.fixmedins_code,
                period=item.period,
                amount_fen=item.amount_fen,
                effective_at=now,
            )
        )
    insert_rows(session, INSTRUCTION, rows)
    failpoints.hit("submission.after_instructions")
    ledger.post_many(session, drafts, now=now)
    failpoints.hit("submission.after_posting")


def _split(item: NewInstruction) -> list[list[Any]] | None:
    if item.period_split is None:
        return None
    return [[period, amount] for period, amount in item.period_split]


def transition(instruction: PaymentInstruction, new_status: InstructionStatus) -> None:
    """The one place statuses change; illegal transitions raise."""
    rules.INSTRUCTION.check(instruction.status, new_status)
    instruction.status = new_status.value


def statuses(session: Session, instruction_ids: Sequence[str]) -> dict[str, str]:
    if not instruction_ids:
        return {}
    rows = session.execute(
        select(PaymentInstruction.instruction_id, PaymentInstruction.status).where(
            PaymentInstruction.instruction_id.in_(list(instruction_ids))
        )
    ).all()
    return {instruction_id: status for instruction_id, status in rows}


def instructions_by_id(
    session: Session, instruction_ids: Sequence[str]
) -> dict[str, PaymentInstruction]:
    """The instructions of these ids, read set-based and without row locks (exports, pages)."""
    found: dict[str, PaymentInstruction] = {}
    for chunk in in_chunks(session, sorted(set(instruction_ids))):
        query = select(PaymentInstruction).where(
            any_of(session, PaymentInstruction.instruction_id, chunk)
        )
        found.update((row.instruction_id, row) for row in session.scalars(query))
    return found


# --- results -----------------------------------------------------------------------------------


class Contradiction(Exception):
    """A result that contradicts a final one: 409, an alert, nothing posted."""


def _locked(session: Session, instruction_ids: Sequence[str]) -> dict[str, PaymentInstruction]:
    """The instructions of these ids locked for this transaction, in one statement in the
    order of their ids (two senders locking overlapping sets cannot deadlock), read afresh."""
    rows = session.scalars(
        select(PaymentInstruction)
        .where(PaymentInstruction.instruction_id.in_(list(instruction_ids)))
        .order_by(PaymentInstruction.instruction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.instruction_id: row for row in rows}


def find(session: Session, instruction_id: str) -> PaymentInstruction | None:
    """The instruction locked for this transaction, or None."""
    return _locked(session, [instruction_id]).get(instruction_id)


def locked(session: Session, instruction_id: str) -> PaymentInstruction:
    """The instruction locked for this transaction; it must exist."""
    instruction = find(session, instruction_id)
    assert instruction is not None, instruction_id
    return instruction


def locked_all(session: Session, instruction_ids: Sequence[str]) -> dict[str, PaymentInstruction]:
    """The instructions locked in one statement (`_locked`); every id must exist."""
    found = _locked(session, instruction_ids)
    assert len(found) == len(set(instruction_ids)), sorted(set(instruction_ids) - set(found))
    return found


class Early(Exception):
    """A result that can only follow another one not known yet: not final, asked again."""


class ApplyOutcome(StrEnum):
    APPLIED = "applied"
    ALREADY = "already"  # the same result was applied before: nothing happens again


def apply_result(
    session: Session,
    instruction: PaymentInstruction,
    status: str,
    amount_fen: int,
    payee_account: str,
    receipt: dict[str, Any] | None,
    failure: dict[str, Any] | None,
    now: datetime,
) -> ApplyOutcome:
    """Apply a bank result (callback or status query) with its ledger posting, in the
    caller's transaction. Returns APPLIED or ALREADY (known before); raises Contradiction, or
    Early for a return before its success that carries no receipt number."""
    if amount_fen != instruction.amount_fen or payee_account != instruction.payee_account:
        raise Contradiction("the result's amount or payee differs from the instruction")
    receipt_no = (receipt or {}).get("receipt_no")
    if status == S.SUCCESS:
        if not receipt_no:
            raise Contradiction("a success carries an electronic receipt")
        receipt_amount = (receipt or {}).get("amount")
        if receipt_amount is not None and receipt_amount != yuan(instruction.amount_fen):
            raise Contradiction("the receipt amount differs from the instruction")
        if instruction.status in (S.SUCCESS, S.RETURNED):
            if instruction.receipt_no == receipt_no:
                return ApplyOutcome.ALREADY
            raise Contradiction("another receipt number for a paid instruction")
        if instruction.status == S.FAILED:
            raise Contradiction("success after a failure")
        transition(instruction, S.SUCCESS)
        instruction.receipt_no = receipt_no
        instruction.receipt = receipt
        instruction.result_at = now
        _post(session, instruction, "success", now)
    elif status == S.FAILED:
        if instruction.status == S.FAILED:
            return ApplyOutcome.ALREADY
        if instruction.status in (S.SUCCESS, S.RETURNED):
            raise Contradiction("failure after a success")
        transition(instruction, S.FAILED)
        instruction.failure_code = (failure or {}).get("code")
        instruction.failure_reason = ((failure or {}).get("reason") or "")[:200]
        instruction.result_at = now
        _post(session, instruction, "failed", now)
    elif status == S.RETURNED:
        if instruction.status == S.RETURNED:
            if receipt_no and receipt_no != instruction.receipt_no:
                raise Contradiction("a return of another receipt")  # 409 and an alert
            return ApplyOutcome.ALREADY
        if instruction.status in rules.AWAITING_RESULT:
            # Out of order: the return came before its success. Its receipt number proves
            # the success; apply that first, for the same end as in order.
            if not receipt_no:
                raise Early("a return before its success, without the receipt to prove it")
            apply_result(
                session, instruction, S.SUCCESS, amount_fen, payee_account, receipt, None, now
            )
        if instruction.status != S.SUCCESS:
            raise Contradiction("a return without a prior success")
        if receipt_no and receipt_no != instruction.receipt_no:
            raise Contradiction("a return of another receipt")
        transition(instruction, S.RETURNED)
        instruction.returned_at = now
        instruction.return_reason = ((failure or {}).get("reason") or "")[:200]
        _post(session, instruction, "returned", now)
        _record_return(session, instruction, now)
    else:
        raise Contradiction(f"unknown status {status}")
    session.flush()
    _notify_source(session, instruction, now)
    return ApplyOutcome.APPLIED


def _post(
    session: Session,
    instruction: PaymentInstruction,
    event: entries.InstructionEvent,
    now: datetime,
) -> None:
    ledger.post(
        session,
        entries.INSTRUCTION_RESULTS[event](
            instruction_id=instruction.instruction_id,
            region_code=instruction.region_code,
            insutype=instruction.insutype,
            fixmedins_code=instruction.fixmedins_code,
            period=instruction.period,
            amount_fen=instruction.amount_fen,
            effective_at=now,
        ),
        now=now,
    )


def _record_return(session: Session, instruction: PaymentInstruction, now: datetime) -> None:
    """Owed again (SPEC §4 `returned`); a daily payment is split by its settlements' periods,
    as saved on the instruction when it was created."""
    parts: list[tuple[str | None, int]] = [(instruction.period, instruction.amount_fen)]
    if instruction.kind == "daily":
        assert instruction.period_split is not None, instruction.instruction_id
        parts = [(period, int(amount)) for period, amount in instruction.period_split]
        assert sum(amount for _, amount in parts) == instruction.amount_fen
    for period, amount in parts:
        session.add(
            BankReturn(
                instruction_id=instruction.instruction_id,
                kind=instruction.kind,
                region_code=instruction.region_code,
                insutype=instruction.insutype,
                fixmedins_code=instruction.fixmedins_code,
                period=period,
                amount_fen=amount,
                returned_at=now,
            )
        )


PaymentResultHandler = Callable[[Session, PaymentInstruction, datetime], None]
# source kind → the function that follows a payment's result (app/wiring.py fills it)
_PAYMENT_RESULT_HANDLERS: dict[str, PaymentResultHandler] = {}


def register_payment_result(source_kind: str, handler: PaymentResultHandler) -> None:
    """The document kind `source_kind` follows its payments' results through `handler`."""
    _PAYMENT_RESULT_HANDLERS[source_kind] = handler


def _notify_source(session: Session, instruction: PaymentInstruction, now: datetime) -> None:
    """Statements and clearings follow their payment's result (daily lines are read through
    their instruction)."""
    if instruction.source_kind == "daily_line":
        return
    handler = _PAYMENT_RESULT_HANDLERS.get(instruction.source_kind)
    if handler is None:
        raise RuntimeError(
            f"no payment-result handler for {instruction.source_kind!r}: app.wiring.wire() "
            "was not called at start-up"
        )
    handler(session, instruction, now)


# --- callbacks (inbox) ------------------------------------------------------------------------


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class StoreOutcome(StrEnum):
    NEW = "new"
    KNOWN = "known"  # the same body under this id: nothing new
    CONFLICT = "conflict"  # another body under a known id: an alert is raised


def store_event(
    session: Session, event_id: str, body: bytes, parsed: dict[str, Any], now: datetime
) -> StoreOutcome:
    """Store a callback before applying it (inbox)."""
    digest = body_hash(body)
    existing = session.get(BankEvent, event_id)
    if existing is not None:
        if existing.body_hash != digest:
            alerts.raise_alert(
                session,
                kind="bank_event_conflict",
                subject=event_id,
                detail="the same event id arrived with another body",
                now=now,
            )
            return StoreOutcome.CONFLICT
        return StoreOutcome.KNOWN
    event = BankEvent(
        event_id=event_id,
        body_hash=digest,
        body=parsed,
        received_at=now,
        instruction_id=parsed.get("instruction_id"),
        status=parsed.get("status"),
        http_status=0,
        outcome="stored",
    )
    session.add(event)
    session.flush()
    return StoreOutcome.NEW


class EventOutcome(StrEnum):
    """What applying a stored callback came to (the router answers 200, 404 or 409)."""

    APPLIED = "applied"
    ALREADY = "already"  # its result was known before (another event, a status query)
    ANSWERED_BEFORE = "answered_before"  # this event was applied and answered before
    UNKNOWN_INSTRUCTION = "unknown_instruction"
    EARLY = "early"  # not final: left unanswered, its next delivery applies it
    CONTRADICTION = "contradiction"  # an alert is raised, nothing posted


@dataclass(frozen=True)
class EventResult:
    outcome: EventOutcome
    detail: str  # the text stored with the event (and answered)


# The answer stored with an applied event (API.md: a replay answers 200 with its text).
_STORED_ANSWER = {
    EventOutcome.APPLIED: 200,
    EventOutcome.ALREADY: 200,
    EventOutcome.UNKNOWN_INSTRUCTION: 404,
    EventOutcome.CONTRADICTION: 409,
}


def _answered(event: BankEvent, outcome: EventOutcome, detail: str) -> EventResult:
    event.http_status, event.outcome = _STORED_ANSWER[outcome], detail
    return EventResult(outcome, detail)


def apply_event(session: Session, event_id: str, now: datetime) -> EventResult:
    """Apply a stored callback once; its answer is stored with it."""
    event = session.get(BankEvent, event_id, with_for_update=True, populate_existing=True)
    assert event is not None
    if event.http_status:
        # Stored with the same body and answered before: nothing happens again (API.md).
        return EventResult(EventOutcome.ANSWERED_BEFORE, event.outcome)
    body = event.body
    instruction = find(session, body["instruction_id"])
    if instruction is None:
        return _answered(event, EventOutcome.UNKNOWN_INSTRUCTION, "unknown instruction")
    try:
        result = apply_result(
            session,
            instruction,
            body["status"],
            to_fen(body["amount"]),
            body["payee_account"],
            body.get("receipt"),
            body.get("failure"),
            now,
        )
    except Early as error:
        # Not final: the event stays unanswered, so its next delivery (or the status query
        # of the re-query sweep) applies it once the success is known.
        event.outcome = str(error)[:200]
        return EventResult(EventOutcome.EARLY, event.outcome)
    except (Contradiction, rules.IllegalTransition) as error:
        alerts.raise_alert(
            session,
            kind="bank_contradiction",
            subject=event_id,
            detail=f"{instruction.instruction_id}: {error}",
            now=now,
        )
        return _answered(event, EventOutcome.CONTRADICTION, str(error)[:200])
    outcome = EventOutcome.APPLIED if result == ApplyOutcome.APPLIED else EventOutcome.ALREADY
    return _answered(event, outcome, result.value)
