"""The send loop: saved instructions (outbox) go to the bank through a `BankGateway` in chunks,
one short transaction per step of a chunk, the HTTP call never inside one; the re-query sweep
asks the bank about those without a result and sends again those that never left (same id)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import failpoints
from app.alerts import service as alerts
from app.bank import service as bank
from app.bank.gateway import CONNECT_RETRIES_MAX
from app.bank.models import PaymentInstruction
from app.bank.protocol import BankGateway, SendOutcome, SendResult
from app.bank.rules import PERSON_KIND, InstructionStatus
from app.clock import at_shanghai, business_date
from app.config import Settings
from app.db import transaction
from app.institutions import service as institutions
from app.institutions.rules import submission_open
from app.jobcontext import JobContext
from app.money import yuan
from app.workdays import service as workdays

log = logging.getLogger("fundledger.bank")
S = InstructionStatus
UNSENT_GRACE_S = 300  # the submission job sends its own right after committing them
# Instructions marked in one transaction, then sent, then recorded in one: 50 calls take
# seconds against a bank that answers, and a slow bank's chunk refreshes its marks.
SEND_CHUNK_MAX = 50
MARKS_REFRESH_S = UNSENT_GRACE_S // 5


def payload(instruction: PaymentInstruction, callback_url: str) -> dict[str, Any]:
    """The payment instruction as the bank protocol writes it (API.md); a payment to a person
    says `"payee_type": "person"` (an institution's leaves it out: the default)."""
    body: dict[str, Any] = {
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
    if instruction.kind == PERSON_KIND:
        body["payee_type"] = "person"
    return body


def _gateway(ctx: JobContext) -> BankGateway:
    if ctx.gateway is None:
        raise RuntimeError("no bank gateway: instructions stay queued")
    return ctx.gateway


def send_queued(ctx: JobContext, instruction_ids: Sequence[str]) -> dict[str, str]:
    """Send saved instructions (outbox) in chunks of `SEND_CHUNK_MAX`: one transaction saves
    the chunk's attempts, the HTTP calls follow one by one outside any transaction, one
    transaction records their outcomes (`_send_chunk`). Returns the resulting status per
    instruction."""
    unique = list(dict.fromkeys(instruction_ids))
    outcomes: dict[str, str] = {}
    cutoff = _Cutoff()
    try:
        for start in range(0, len(unique), SEND_CHUNK_MAX):
            outcomes.update(_send_chunk(ctx, unique[start : start + SEND_CHUNK_MAX], cutoff))
    finally:
        _alert_late(ctx, cutoff.late)
    return {instruction_id: outcomes[instruction_id] for instruction_id in unique}


@dataclass
class _Cutoff:
    """A send run and its fund ledgers' cut-offs (SPEC §3.6: nothing is sent after it):
    when each marked instruction's sending closes, the `sent_at` its mark replaced (restored
    when the cut-off stops its call), and how many were left per fund ledger."""

    closes: dict[str, datetime] = field(default_factory=dict)
    before: dict[str, datetime | None] = field(default_factory=dict)
    late: dict[tuple[str, str], int] = field(default_factory=dict)

    def left(self, instruction: PaymentInstruction) -> None:
        fund = (instruction.region_code, instruction.insutype)
        self.late[fund] = self.late.get(fund, 0) + 1


def _send_chunk(ctx: JobContext, instruction_ids: list[str], cutoff: _Cutoff) -> dict[str, str]:
    """Each round: mark (attempts, sent_at) those still QUEUED whose fund ledger still sends
    today, send them (none at or after its cut-off), record the outcomes; a connection that
    failed before sending goes again with the same id in the next round
    (`CONNECT_RETRIES_MAX` attempts in all); an UNKNOWN, or an answer that already tells a
    result, is then asked for its status (`query_and_apply`)."""
    gateway = _gateway(ctx)
    outcomes: dict[str, str] = {}
    to_query: list[str] = []
    pending = instruction_ids
    for _attempt in range(CONNECT_RETRIES_MAX):
        if not pending:
            break
        bodies = _mark(ctx, pending, outcomes, cutoff=cutoff)
        sent: dict[str, SendResult] = {}
        cut: list[str] = []
        try:
            _send(ctx, gateway, bodies, sent, outcomes, cutoff, cut)
        finally:  # what left is recorded even if a later call raised (as one by one did)
            pending = _record(ctx, sent, outcomes, to_query, cut, cutoff)
    outcomes.update(dict.fromkeys(pending, S.QUEUED.value))
    for instruction_id in to_query:
        outcomes[instruction_id] = query_and_apply(ctx, instruction_id)
    return outcomes


def _mark(
    ctx: JobContext,
    instruction_ids: list[str],
    outcomes: dict[str, str],
    *,
    cutoff: _Cutoff | None,
) -> dict[str, dict[str, Any]]:
    """One transaction: the instructions locked; one no longer QUEUED is set aside with its
    status; the others are marked now (`sent_at`): with a new attempt counted before its call
    (`cutoff` given) — made only while its fund ledger sends today (past its cut-off the
    instruction stays QUEUED for the next working day) — or, for a slow chunk's refresh
    (`cutoff` None), the attempt already counted. Returns the bodies of those marked."""
    bodies: dict[str, dict[str, Any]] = {}
    with transaction(ctx.session_factory) as session:
        now = ctx.clock.now()
        locked = bank.locked_all(session, instruction_ids)
        closing: dict[tuple[str, str], datetime | None] = {}
        for instruction_id in instruction_ids:
            instruction = locked[instruction_id]
            if instruction.status != S.QUEUED:
                outcomes[instruction_id] = instruction.status
                continue
            if cutoff is not None:
                fund = (instruction.region_code, instruction.insutype)
                if fund not in closing:
                    closing[fund] = _cutoff_today(session, fund, now)
                closes = closing[fund]
                if closes is None or now >= closes:
                    outcomes[instruction_id] = instruction.status
                    cutoff.left(instruction)
                    continue
                cutoff.closes[instruction_id] = closes
                cutoff.before[instruction_id] = instruction.sent_at
                instruction.attempts += 1
            bodies[instruction_id] = payload(instruction, ctx.settings.callback_url)
            instruction.sent_at = now
    return bodies


def _cutoff_today(session: Session, fund: tuple[str, str], now: datetime) -> datetime | None:
    """The moment the fund ledger's sending closes today (its cut-off), None when it is
    switched off."""
    today = business_date(now)
    ledger = institutions.get_fund_ledger(session, *fund)
    policy = institutions.policy_on(session, ledger.id, today)
    return None if policy is None else at_shanghai(today, policy.cutoff_time)


def _alert_late(ctx: JobContext, late: dict[tuple[str, str], int]) -> None:
    """SPEC §3.6: what the cut-off left waits for the next working day (the re-query sweep
    sends it then, same ids) and raises an alert, once per fund ledger and day, after the
    run's outcomes are saved (each in its own transaction: the alert never costs them)."""
    now = ctx.clock.now()
    for (region, insutype), count in sorted(late.items()):
        subject = f"{region}:{insutype}:{business_date(now)}"
        try:
            with transaction(ctx.session_factory) as session:
                alerts.raise_alert(
                    session,
                    kind="submission_after_cutoff",
                    subject=subject,
                    detail=f"{count} payment instruction(s) not sent: the fund ledger's "
                    "sending had closed for the day (its cut-off); they wait for the next "
                    "working day",
                    now=now,
                )
        except IntegrityError:  # another sender of the fund ledger raised it meanwhile
            log.info("alert submission_after_cutoff %s: raised by another sender", subject)


def _send(
    ctx: JobContext,
    gateway: BankGateway,
    bodies: dict[str, dict[str, Any]],
    sent: dict[str, SendResult],
    outcomes: dict[str, str],
    cutoff: _Cutoff,
    cut: list[str],
) -> None:
    """The HTTP calls, one by one, into `sent`; one whose fund ledger's cut-off has come
    while the chunk was sending is not made (into `cut`). A chunk still sending
    `MARKS_REFRESH_S` after its marks saves them again for the rest and for those called but
    not recorded yet: `_sendable` must never take a slow chunk's instructions for ones a
    stopped process left (UNSENT_GRACE_S)."""
    waiting = list(bodies)
    marked_at = ctx.clock.now()
    while waiting:
        now = ctx.clock.now()
        if now - marked_at >= timedelta(seconds=MARKS_REFRESH_S):
            still = set(_mark(ctx, [*sent, *waiting], outcomes, cutoff=None))
            waiting = [instruction_id for instruction_id in waiting if instruction_id in still]
            marked_at = ctx.clock.now()
            continue
        instruction_id = waiting.pop(0)
        if now >= cutoff.closes[instruction_id]:
            cut.append(instruction_id)
            continue
        result = gateway.send(bodies[instruction_id])
        failpoints.hit("bank.send.after_request")
        sent[instruction_id] = result


def _record(
    ctx: JobContext,
    sent: dict[str, SendResult],
    outcomes: dict[str, str],
    to_query: list[str],
    cut: list[str],
    cutoff: _Cutoff,
) -> list[str]:
    """One transaction: the outcomes of the calls, each instruction locked again; those the
    cut-off stopped get back the attempt count and `sent_at` their mark replaced (no call
    was made). Returns those whose connection failed before sending (nothing left: the same
    id again)."""
    if not sent and not cut:
        return []
    again: list[str] = []
    with transaction(ctx.session_factory) as session:
        locked = bank.locked_all(session, [*sent, *cut])
        for instruction_id in cut:
            instruction = locked[instruction_id]
            if instruction.status == S.QUEUED:
                instruction.attempts -= 1
                instruction.sent_at = cutoff.before[instruction_id]
                cutoff.left(instruction)
            outcomes[instruction_id] = instruction.status
        for instruction_id, result in sent.items():
            instruction = locked[instruction_id]
            if result.outcome == SendOutcome.NOT_SENT:
                instruction.last_error = result.detail[:300]
                again.append(instruction_id)
                continue
            if result.outcome == SendOutcome.REFUSED:
                instruction.last_error = result.detail[:300]
                alerts.raise_alert(
                    session,
                    kind="bank_refused",
                    subject=instruction_id,
                    detail=result.detail,
                    now=ctx.clock.now(),
                )
                outcomes[instruction_id] = instruction.status
                continue
            accepted = result.outcome == SendOutcome.ACCEPTED
            if instruction.status == S.QUEUED:
                bank.transition(instruction, S.ACCEPTED if accepted else S.UNKNOWN)
            if accepted and result.status in (S.ACCEPTED, None):
                outcomes[instruction_id] = instruction.status
            else:  # UNKNOWN, or the bank answered with a result already: ask for the status
                to_query.append(instruction_id)
    return again


def query_and_apply(ctx: JobContext, instruction_id: str) -> str:
    """Ask the bank for the status and apply what it says (never a new instruction)."""
    try:
        result = _gateway(ctx).query(instruction_id)
    except ConnectionError as error:
        log.warning("status query of %s failed: %s", instruction_id, error)
        with transaction(ctx.session_factory) as session:
            return bank.locked(session, instruction_id).status
    with transaction(ctx.session_factory) as session:
        instruction = bank.locked(session, instruction_id)
        now = ctx.clock.now()
        if not result.found:
            if instruction.status == S.UNKNOWN:
                bank.transition(instruction, S.QUEUED)  # the bank never took it: same id again
            return instruction.status
        body = result.body or {}
        status = result.status
        if status == S.ACCEPTED:
            if instruction.status in (S.QUEUED, S.UNKNOWN):
                bank.transition(instruction, S.ACCEPTED)
            return instruction.status
        if status in (S.SUCCESS, S.FAILED, S.RETURNED):
            receipt = body.get("receipt")
            try:
                bank.apply_result(
                    session,
                    instruction,
                    status,
                    instruction.amount_fen,
                    instruction.payee_account,
                    receipt,
                    body.get("failure") or body.get("return"),
                    now,
                )
            except bank.Early as error:
                log.warning("status of %s: %s", instruction_id, error)
        return instruction.status


def requery_due(ctx: JobContext) -> dict[str, str]:
    """Instructions sent ≥ 30 min ago (configurable) without a result: ask the bank. Those
    that never left (a connection failure, or a process that stopped between saving and
    sending) are sent with the same id, on a working day before the fund ledger's cutoff;
    one waiting since an earlier day raises an alert."""
    now = ctx.clock.now()
    older_than = now - timedelta(seconds=ctx.settings.bank_requery_after_s)
    with transaction(ctx.session_factory) as session:
        waiting = list(
            session.scalars(
                select(PaymentInstruction.instruction_id).where(
                    PaymentInstruction.status.in_([S.ACCEPTED.value, S.UNKNOWN.value]),
                    PaymentInstruction.sent_at <= older_than,
                )
            )
        )
        unsent = _sendable(session, now - timedelta(seconds=UNSENT_GRACE_S), now)
    results = {i: query_and_apply(ctx, i) for i in waiting}
    results.update(send_queued(ctx, unsent))
    return results


def _sendable(session: Session, saved_before: datetime, now: datetime) -> list[str]:
    rows = session.execute(
        select(
            PaymentInstruction.instruction_id,
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.requested_date,
        )
        .where(
            PaymentInstruction.status == S.QUEUED.value,
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
    overdue: dict[tuple[str, str, date], list[str]] = {}
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
            overdue.setdefault((region, insutype, requested), []).append(instruction_id)
    # one alert per fund ledger and day saved for (a day the cut-off stopped, or the bank was
    # unreachable, leaves hundreds), not one per instruction
    for (region, insutype, requested), ids in sorted(overdue.items()):
        alerts.raise_alert(
            session,
            kind="bank_unsent",
            subject=f"{region}:{insutype}:{requested}",
            detail=f"{len(ids)} payment instruction(s) saved for {requested} not sent yet "
            f"(first {ids[0]}); they go before the next cutoff",
            now=now,
        )
    return sendable


def next_requery_due(
    session: Session, settings: Settings, now: datetime | None = None
) -> datetime | None:
    """When the re-query sweep next has work: 30 min (configurable) after the oldest send
    without a result; for an instruction that never left, five minutes after its last try, or
    the next moment its fund ledger sends at all (a working day, before the cut-off)."""
    candidates: list[datetime] = []
    unsent = session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            func.min(func.coalesce(PaymentInstruction.sent_at, PaymentInstruction.created_at)),
        )
        .where(PaymentInstruction.status == S.QUEUED.value)
        .group_by(PaymentInstruction.region_code, PaymentInstruction.insutype)
    ).all()
    for region, insutype, last_try in unsent:
        earliest = last_try + timedelta(seconds=UNSENT_GRACE_S)
        if now is not None:
            earliest = max(earliest, now)
        candidates.append(_next_opening(session, region, insutype, earliest))
    oldest = session.scalar(
        select(func.min(PaymentInstruction.sent_at)).where(
            PaymentInstruction.status.in_([S.ACCEPTED.value, S.UNKNOWN.value])
        )
    )
    if oldest is not None:
        candidates.append(oldest + timedelta(seconds=settings.bank_requery_after_s))
    return min(candidates) if candidates else None


def _next_opening(session: Session, region: str, insutype: str, moment: datetime) -> datetime:
    """The first moment from `moment` on when the fund ledger sends: a working day before its
    cut-off (a week of days ahead at most; past that, `moment` itself)."""
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
