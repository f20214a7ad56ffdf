"""Payment instructions (outbox): created with their ledger posting, sent after commit."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from app import failpoints
from app.alerts import service as alerts
from app.bank import gateway as gateway_module
from app.bank import rules
from app.bank.models import BankEvent, BankReturn, PaymentInstruction
from app.db import insert_rows
from app.institutions.models import FundLedger, Institution
from app.ledger import entries
from app.ledger import service as ledger
from app.money import to_fen, yuan

INSTRUCTION = cast(Table, PaymentInstruction.__table__)
log = logging.getLogger("fundledger.bank")


@dataclass(frozen=True)
class NewInstruction:
    instruction_id: str
    kind: str  # daily | monthly | annual
    fixmedins_code: str
    amount_fen: int
    purpose: str
    source_kind: str
    source_id: int
    period: str | None = None
    resend_of: str | None = None


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
    codes = sorted({item.fixmedins_code for item in items})
    payees = {
        i.code: i for i in session.scalars(select(Institution).where(Institution.code.in_(codes)))
    }
    rows: list[dict[str, Any]] = []
    drafts = []
    for item in items:
        assert item.amount_fen > 0, "only non-zero amounts are sent"
        payee = payees[item.fixmedins_code]
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
                "payee_account": payee.bank_account,
                "payee_name": payee.bank_account_name,
                "payee_bank_code": payee.bank_code,
                "purpose": item.purpose,
                "requested_date": requested_date,
                "status": "QUEUED",
                "source_kind": item.source_kind,
                "source_id": item.source_id,
                "period": item.period,
                "resend_of": item.resend_of,
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


def transition(instruction: PaymentInstruction, new_status: str) -> None:
    """The one place statuses change; illegal transitions raise."""
    rules.check_transition(instruction.status, new_status)
    instruction.status = new_status


def statuses(session: Session, instruction_ids: Sequence[str]) -> dict[str, str]:
    if not instruction_ids:
        return {}
    rows = session.execute(
        select(PaymentInstruction.instruction_id, PaymentInstruction.status).where(
            PaymentInstruction.instruction_id.in_(list(instruction_ids))
        )
    ).all()
    return {instruction_id: status for instruction_id, status in rows}


# --- sending ----------------------------------------------------------------------------------


def payload(instruction: PaymentInstruction, callback_url: str) -> dict[str, Any]:
    """The payment instruction as the bank protocol writes it (API.md)."""
    return {
        "instruction_id": instruction.instruction_id,
        "payer_account": instruction.payer_account,
        "payer_name": instruction.payer_name,
        "payee_account": instruction.payee_account,
        "payee_name": instruction.payee_name,
        "payee_bank_code": instruction.payee_bank_code,
        "amount": yuan(instruction.amount_fen),
        "currency": "CNY",
        "purpose": instruction.purpose,
        "requested_date": instruction.requested_date.isoformat(),
        "callback_url": callback_url,
    }


def send_queued(ctx: Any, instruction_ids: Sequence[str]) -> dict[str, str]:
    """Send saved instructions (outbox), one short transaction per step; the HTTP call is
    never inside a transaction. Returns the resulting status per instruction."""
    outcomes: dict[str, str] = {}
    for instruction_id in instruction_ids:
        outcomes[instruction_id] = _send_one(ctx, instruction_id)
    return outcomes


def _send_one(ctx: Any, instruction_id: str) -> str:
    from app.db import transaction

    for _attempt in range(gateway_module.CONNECT_RETRIES_MAX):
        with transaction(ctx.session_factory) as session:
            instruction = _locked(session, instruction_id)
            if instruction.status != "QUEUED":
                return instruction.status
            body = payload(instruction, ctx.settings.callback_url)
            instruction.attempts += 1
            instruction.sent_at = ctx.clock.now()
        result = ctx.gateway.send(body)
        failpoints.hit("bank.send.after_request")
        with transaction(ctx.session_factory) as session:
            instruction = _locked(session, instruction_id)
            if result.outcome == "not_sent":
                instruction.last_error = result.detail[:300]
                continue  # nothing left: retry with the same id
            if result.outcome == "refused":
                instruction.last_error = result.detail[:300]
                alerts.raise_alert(
                    session,
                    kind="bank_refused",
                    subject=instruction_id,
                    detail=result.detail,
                    now=ctx.clock.now(),
                )
                return instruction.status
            if instruction.status == "QUEUED":
                transition(instruction, "ACCEPTED" if result.outcome == "accepted" else "UNKNOWN")
            if result.outcome == "accepted" and result.status in ("ACCEPTED", None):
                return instruction.status
        # UNKNOWN, or the bank answered with a result already: ask for the status.
        return query_and_apply(ctx, instruction_id)
    return "QUEUED"


def query_and_apply(ctx: Any, instruction_id: str) -> str:
    """Ask the bank for the status and apply what it says (never a new instruction)."""
    from app.db import transaction

    try:
        result = ctx.gateway.query(instruction_id)
    except ConnectionError as error:
        log.warning("status query of %s failed: %s", instruction_id, error)
        with transaction(ctx.session_factory) as session:
            return _locked(session, instruction_id).status
    with transaction(ctx.session_factory) as session:
        instruction = _locked(session, instruction_id)
        now = ctx.clock.now()
        if not result.found:
            if instruction.status == "UNKNOWN":
                transition(instruction, "QUEUED")  # the bank never took it: same id again
            return instruction.status
        body = result.body or {}
        status = result.status
        if status == "ACCEPTED":
            if instruction.status in ("QUEUED", "UNKNOWN"):
                transition(instruction, "ACCEPTED")
            return instruction.status
        if status in ("SUCCESS", "FAILED", "RETURNED"):
            receipt = body.get("receipt")
            try:
                apply_result(
                    session,
                    instruction,
                    status,
                    instruction.amount_fen,
                    instruction.payee_account,
                    receipt,
                    body.get("failure") or body.get("return"),
                    now,
                )
            except Early as error:
                log.warning("status of %s: %s", instruction_id, error)
        return instruction.status


def requery_due(ctx: Any) -> dict[str, str]:
    """Instructions sent ≥ 30 min ago (configurable) without a result: ask the bank. Those
    that never left (a connection failure, or a process that stopped between saving and
    sending) are sent with the same id, on a working day before the fund ledger's cutoff;
    one waiting since an earlier day raises an alert."""
    from datetime import timedelta

    from app.db import transaction

    now = ctx.clock.now()
    older_than = now - timedelta(seconds=ctx.settings.bank_requery_after_s)
    with transaction(ctx.session_factory) as session:
        waiting = list(
            session.scalars(
                select(PaymentInstruction.instruction_id).where(
                    PaymentInstruction.status.in_(["ACCEPTED", "UNKNOWN"]),
                    PaymentInstruction.sent_at <= older_than,
                )
            )
        )
        unsent = _sendable(session, now - timedelta(seconds=UNSENT_GRACE_S), now)
    results = {i: query_and_apply(ctx, i) for i in waiting}
    results.update(send_queued(ctx, unsent))
    return results


UNSENT_GRACE_S = 300  # the submission job sends its own right after committing them


def _sendable(session: Session, saved_before: datetime, now: datetime) -> list[str]:
    from app.clock import business_date
    from app.daily.service import submission_open
    from app.institutions import service as institutions
    from app.workdays import service as workdays

    rows = session.execute(
        select(
            PaymentInstruction.instruction_id,
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.requested_date,
        )
        .where(
            PaymentInstruction.status == "QUEUED",
            # not while the submission that saved it may still be sending it (a run of
            # thousands of sends takes minutes), nor right after an attempt of its own
            PaymentInstruction.created_at <= saved_before,
            PaymentInstruction.sent_at.is_(None) | (PaymentInstruction.sent_at <= saved_before),
        )
        .order_by(PaymentInstruction.instruction_id)
    ).all()
    if not rows:
        return []
    today = business_date(now)
    working = workdays.load(session).is_working(today)
    open_now: dict[tuple[str, str], bool] = {}
    sendable = []
    for instruction_id, region, insutype, requested in rows:
        if (region, insutype) not in open_now:
            fund = institutions.get_fund_ledger(session, region, insutype)
            policy = institutions.policy_on(session, fund.id, today)
            open_now[(region, insutype)] = (
                working and policy is not None and submission_open(policy, now)
            )
        if open_now[(region, insutype)] and requested <= today:
            sendable.append(instruction_id)
        elif requested < today:
            alerts.raise_alert(
                session,
                kind="bank_unsent",
                subject=instruction_id,
                detail=f"saved for {requested}, not sent yet; it goes before the next cutoff",
                now=now,
            )
    return sendable


def next_requery_due(
    session: Session, settings: Any, now: datetime | None = None
) -> datetime | None:
    """When the re-query sweep next has work: 30 min (configurable) after the oldest send
    without a result; for an instruction that never left, five minutes after its last try, or
    the next moment its fund ledger sends at all (a working day, before the cut-off)."""
    from datetime import timedelta

    candidates: list[datetime] = []
    unsent = session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            func.min(func.coalesce(PaymentInstruction.sent_at, PaymentInstruction.created_at)),
        )
        .where(PaymentInstruction.status == "QUEUED")
        .group_by(PaymentInstruction.region_code, PaymentInstruction.insutype)
    ).all()
    for region, insutype, last_try in unsent:
        earliest = last_try + timedelta(seconds=UNSENT_GRACE_S)
        if now is not None:
            earliest = max(earliest, now)
        candidates.append(_next_opening(session, region, insutype, earliest))
    oldest = session.scalar(
        select(func.min(PaymentInstruction.sent_at)).where(
            PaymentInstruction.status.in_(["ACCEPTED", "UNKNOWN"])
        )
    )
    if oldest is not None:
        candidates.append(oldest + timedelta(seconds=settings.bank_requery_after_s))
    return min(candidates) if candidates else None


def _next_opening(session: Session, region: str, insutype: str, moment: datetime) -> datetime:
    """The first moment from `moment` on when the fund ledger sends: a working day before its
    cut-off (a week of days ahead at most; past that, `moment` itself)."""
    from datetime import time, timedelta

    from app.clock import at_shanghai, business_date
    from app.daily.service import submission_open
    from app.institutions import service as institutions
    from app.workdays import service as workdays

    calendar = workdays.load(session)
    fund = institutions.get_fund_ledger(session, region, insutype)
    candidate = moment
    for _ in range(15):
        day = business_date(candidate)
        policy = institutions.policy_on(session, fund.id, day)
        if calendar.is_working(day) and policy is not None and submission_open(policy, candidate):
            return candidate
        candidate = at_shanghai(day + timedelta(days=1), time(0, 0))
    return moment


# --- results -----------------------------------------------------------------------------------

AWAITING = rules.AWAITING_RESULT


class Contradiction(Exception):
    """A result that contradicts a final one: 409, an alert, nothing posted."""


def _locked(session: Session, instruction_id: str) -> PaymentInstruction:
    instruction = session.scalar(
        select(PaymentInstruction)
        .where(PaymentInstruction.instruction_id == instruction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert instruction is not None, instruction_id
    return instruction


def find(session: Session, instruction_id: str) -> PaymentInstruction | None:
    return session.scalar(
        select(PaymentInstruction)
        .where(PaymentInstruction.instruction_id == instruction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


class Early(Exception):
    """A result that can only follow another one not known yet: not final, asked again."""


def apply_result(
    session: Session,
    instruction: PaymentInstruction,
    status: str,
    amount_fen: int,
    payee_account: str,
    receipt: dict[str, Any] | None,
    failure: dict[str, Any] | None,
    now: datetime,
) -> str:
    """Apply a bank result (callback or status query) with its ledger posting, in the
    caller's transaction. Returns "applied" or "already"; raises Contradiction, or Early for
    a return before its success that carries no receipt number."""
    if amount_fen != instruction.amount_fen or payee_account != instruction.payee_account:
        raise Contradiction("the result's amount or payee differs from the instruction")
    receipt_no = (receipt or {}).get("receipt_no")
    if status == "SUCCESS":
        if not receipt_no:
            raise Contradiction("a success carries an electronic receipt")
        receipt_amount = (receipt or {}).get("amount")
        if receipt_amount is not None and receipt_amount != yuan(instruction.amount_fen):
            raise Contradiction("the receipt amount differs from the instruction")
        if instruction.status in ("SUCCESS", "RETURNED"):
            if instruction.receipt_no == receipt_no:
                return "already"
            raise Contradiction("another receipt number for a paid instruction")
        if instruction.status == "FAILED":
            raise Contradiction("success after a failure")
        transition(instruction, "SUCCESS")
        instruction.receipt_no = receipt_no
        instruction.receipt = receipt
        instruction.result_at = now
        _post(session, instruction, "success", now)
    elif status == "FAILED":
        if instruction.status == "FAILED":
            return "already"
        if instruction.status in ("SUCCESS", "RETURNED"):
            raise Contradiction("failure after a success")
        transition(instruction, "FAILED")
        instruction.failure_code = (failure or {}).get("code")
        instruction.failure_reason = ((failure or {}).get("reason") or "")[:200]
        instruction.result_at = now
        _post(session, instruction, "failed", now)
    elif status == "RETURNED":
        if instruction.status == "RETURNED":
            if receipt_no and receipt_no != instruction.receipt_no:
                raise Contradiction("a return of another receipt")  # 409 and an alert
            return "already"
        if instruction.status in AWAITING:
            # Out of order: the return came before its success. Its receipt number proves
            # the success; apply that first, for the same end as in order.
            if not receipt_no:
                raise Early("a return before its success, without the receipt to prove it")
            apply_result(
                session, instruction, "SUCCESS", amount_fen, payee_account, receipt, None, now
            )
        if instruction.status != "SUCCESS":
            raise Contradiction("a return without a prior success")
        if receipt_no and receipt_no != instruction.receipt_no:
            raise Contradiction("a return of another receipt")
        transition(instruction, "RETURNED")
        instruction.returned_at = now
        instruction.return_reason = ((failure or {}).get("reason") or "")[:200]
        _post(session, instruction, "returned", now)
        _record_return(session, instruction, now)
    else:
        raise Contradiction(f"unknown status {status}")
    session.flush()
    _notify_source(session, instruction, now)
    return "applied"


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
    """Owed again (SPEC §4 `returned`); a daily payment is split by its settlements' periods."""
    parts: list[tuple[str | None, int]] = [(instruction.period, instruction.amount_fen)]
    if instruction.kind == "daily":
        from app.daily import service as daily

        parts = daily.line_amounts_by_period(session, instruction.source_id)
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


def store_event(
    session: Session, event_id: str, body: bytes, parsed: dict[str, Any], now: datetime
) -> str:
    """Store a callback before applying it: "new", "known" (same body), or "conflict" (another
    body under a known id: an alert is raised, the caller answers 409)."""
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
            return "conflict"
        return "known"
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
    return "new"


def apply_event(session: Session, event_id: str, now: datetime) -> tuple[int, str]:
    """Apply a stored callback once; its HTTP answer is stored with it."""
    event = session.get(BankEvent, event_id, with_for_update=True, populate_existing=True)
    assert event is not None
    if event.http_status:
        # Stored with the same body and answered before: nothing happens again (API.md).
        return 200, event.outcome
    body = event.body
    instruction = find(session, body["instruction_id"])
    if instruction is None:
        event.http_status, event.outcome = 404, "unknown instruction"
        return event.http_status, event.outcome
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
        return 409, event.outcome
    except (Contradiction, rules.IllegalTransition) as error:
        alerts.raise_alert(
            session,
            kind="bank_contradiction",
            subject=event_id,
            detail=f"{instruction.instruction_id}: {error}",
            now=now,
        )
        event.http_status, event.outcome = 409, str(error)[:200]
        return event.http_status, event.outcome
    event.http_status, event.outcome = 200, result
    return 200, result
