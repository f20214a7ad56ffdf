"""Payments to persons (SPEC-ASSISTANCE A6, A10 "Person payments"): applications, top-ups and
care grants share one table and one flow — recorded, approved (maker–checker; the person's
delivered next-period claims deducted, oldest first; posted), submitted to the bank as payee
type person, following the bank's result, re-approved and resent after a failure or a
return. Flush-only; records its own audit trail (`person_payment.<action>`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.assistance import claims, clearing_takeback, recipients, recovery
from app.assistance.person_models import ApplicationInvoice, PersonPayment
from app.assistance.person_status import (
    PERSON_PAYMENT,
    RESENDABLE,
    PaymentKind,
    PersonPaymentStatus,
    status_after_approval,
    status_after_payment,
)
from app.auth.principal import Principal
from app.bank import rules as bank_rules
from app.bank import service as bank
from app.bank.models import PaymentInstruction
from app.db import any_of, in_chunks
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.institutions.models import FundLedger
from app.ledger import person_entries
from app.ledger import service as ledger
from app.money import yuan
from app.trail import service as trail

S = PersonPaymentStatus
SOURCE_KIND = "person_payment"  # the instructions' source kind (app/wiring.py)
MAKER_CHECKER = "nobody approves a payment they recorded (maker–checker)"
PURPOSES = {
    PaymentKind.APPLICATION: "医疗救助金",
    PaymentKind.TOP_UP: "医疗救助补差",
    PaymentKind.GRANT: "大病关怀救助金",
}


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_by_reference(session: Session, reference: str) -> PersonPayment | None:
    return session.scalar(select(PersonPayment).where(PersonPayment.reference == reference))


def replay_of(
    session: Session, kind: PaymentKind, reference: str, content: dict[str, Any]
) -> PersonPayment | None:
    """The payment recorded under `reference` when `content` is what it recorded (a replay),
    None when the reference is new; another kind or content under it is a conflict."""
    existing = find_by_reference(session, reference)
    if existing is None:
        return None
    if existing.kind != kind.value or existing.content_hash != content_hash(content):
        raise Conflict(
            f"reference {reference} was recorded with other content", code="reference-conflict"
        )
    return existing


def person_slot_checked(psn_no: str) -> str:
    try:
        return person_entries.person_slot(psn_no)
    except ValueError:
        raise Invalid.field(
            "psn_no", "psn_no_length", "a person paid by the fund has at most 29 characters"
        ) from None


def record(
    session: Session,
    *,
    kind: PaymentKind,
    reference: str,
    psn_no: str,
    region_code: str,
    amount_fen: int,
    content: dict[str, Any],
    actor: Principal,
    now: datetime,
    disease: str | None = None,
) -> PersonPayment:
    """A new payment awaiting approval (the caller checked `replay_of` first)."""
    assert amount_fen >= 0
    person_slot_checked(psn_no)
    payment = PersonPayment(
        kind=kind.value,
        reference=reference,
        psn_no=psn_no,
        region_code=region_code,
        amount_fen=amount_fen,
        deducted_fen=0,
        paid_fen=amount_fen,
        status=S.PENDING_APPROVAL.value,
        disease=disease,
        content_hash=content_hash(content),
        recorded_at=now,
        recorded_by=actor.name,
    )
    session.add(payment)
    session.flush()
    _trail(
        session,
        payment,
        "record",
        None,
        {"kind": kind.value, "amount": yuan(amount_fen)},
        actor,
        now,
    )
    return payment


def add_top_up(
    session: Session,
    *,
    reference: str,
    psn_no: str,
    region_code: str,
    amount_fen: int,
    actor: Principal,
    now: datetime,
) -> PersonPayment:
    """补差发放: a positive clearing result owed to the person, under the clearing's reference
    (for the clearing service); the same again returns it."""
    assert amount_fen > 0
    content = {"psn_no": psn_no, "region_code": region_code, "amount": yuan(amount_fen)}
    claims.lock_person(session, psn_no)  # before the look-up: the same top-up twice is a replay
    existing = replay_of(session, PaymentKind.TOP_UP, reference, content)
    if existing is not None:
        return existing
    return record(
        session,
        kind=PaymentKind.TOP_UP,
        reference=reference,
        psn_no=psn_no,
        region_code=region_code,
        amount_fen=amount_fen,
        content=content,
        actor=actor,
        now=now,
    )


def _trail(
    session: Session,
    payment: PersonPayment,
    action: str,
    before: Any,
    after: Any,
    actor: Principal,
    now: datetime,
) -> None:
    trail.record(
        session,
        actor=actor,
        action=f"person_payment.{action}",
        entity="person_payment",
        key=str(payment.id),
        before=before,
        after=after,
        now=now,
    )


def get(session: Session, payment_id: int, *, lock: bool = False) -> PersonPayment:
    query = select(PersonPayment).where(PersonPayment.id == payment_id)
    if lock:
        query = query.with_for_update()
    payment = session.scalar(query.execution_options(populate_existing=True))
    if payment is None:
        raise NotFound(f"no person payment {payment_id}")
    return payment


def _move(payment: PersonPayment, new: PersonPaymentStatus) -> None:
    PERSON_PAYMENT.check(payment.status, new)
    payment.status = new.value


def _needs_account(session: Session, payment: PersonPayment) -> None:
    recipient = recipients.find(session, payment.psn_no)
    if recipient is None or not (
        recipient.bank_account and recipient.bank_account_name and recipient.bank_code
    ):
        raise Conflict(
            f"person {payment.psn_no} has no bank account in the register", code="no-bank-account"
        )


def approve(session: Session, payment_id: int, *, actor: Principal, now: datetime) -> PersonPayment:
    """Approve (maker–checker): the amount less the person's delivered next-period claims
    (oldest first, each reduced) is owed and posted; what is left is paid at the next
    submission (NOT_SENT), nothing left is SETTLED. A FAILED or RETURNED payment is
    re-approved for a resend. Approving again returns it unchanged; a rejected one is 409."""
    known = get(session, payment_id)
    claims.lock_person(session, known.psn_no)
    payment = get(session, payment_id, lock=True)
    if payment.status in RESENDABLE:
        if actor.name == payment.recorded_by:
            raise Forbidden(MAKER_CHECKER)
        _needs_account(session, payment)
        before = payment.status
        _move(payment, S.NOT_SENT)
        payment.approved_at, payment.approved_by = now, actor.name
        session.flush()
        _trail(
            session, payment, "reapprove", {"status": before}, {"status": "NOT_SENT"}, actor, now
        )
        return payment
    if payment.status != S.PENDING_APPROVAL:
        if payment.approved_at is not None:
            return payment
        raise Conflict(f"person payment {payment_id} is {payment.status}, not awaiting approval")
    if actor.name == payment.recorded_by:
        raise Forbidden(MAKER_CHECKER)
    open_claims = claims.open_claims(session, payment.psn_no, payment.region_code)
    split = recovery.split_person_payment(
        payment.amount_fen, [claims.as_rule(claim) for claim in open_claims]
    )
    if split.paid_fen > 0:
        _needs_account(session, payment)
    claims.take(session, open_claims, split.recoveries, now=now, payment_id=payment.id)
    draft = person_entries.person_payment_approval(
        payment_id=payment.id,
        region_code=payment.region_code,
        psn_no=payment.psn_no,
        amount_fen=payment.amount_fen,
        deducted_fen=split.deducted_fen,
        effective_at=now,
    )
    if draft is not None:
        ledger.post(session, draft, now=now)
    payment.deducted_fen, payment.paid_fen = split.deducted_fen, split.paid_fen
    _move(payment, status_after_approval(split.paid_fen))
    payment.approved_at, payment.approved_by = now, actor.name
    session.flush()
    after = {
        "status": payment.status,
        "deducted": yuan(split.deducted_fen),
        "paid": yuan(split.paid_fen),
        "claims": {item.claim_key: yuan(item.amount_fen) for item in split.recoveries},
    }
    _trail(session, payment, "approve", {"status": "PENDING_APPROVAL"}, after, actor, now)
    return payment


def reject(
    session: Session, payment_id: int, reason: str, *, actor: Principal, now: datetime
) -> PersonPayment:
    """Reject a payment awaiting approval, with a reason: it leaves granted, an application's
    invoices are free to be recorded again. The same rejection again returns it unchanged."""
    payment = get(session, payment_id, lock=True)
    if payment.status == S.REJECTED:
        if payment.reject_reason == reason:
            return payment
        raise Conflict(f"person payment {payment_id} was rejected for another reason")
    if payment.status != S.PENDING_APPROVAL:
        raise Conflict(f"person payment {payment_id} is {payment.status}, not awaiting approval")
    if actor.name == payment.recorded_by:
        raise Forbidden("nobody rejects a payment they recorded (maker–checker)")
    _move(payment, S.REJECTED)
    payment.rejected_at, payment.rejected_by, payment.reject_reason = now, actor.name, reason
    # an application's invoices may be recorded again under a new reference
    session.execute(
        update(ApplicationInvoice)
        .where(ApplicationInvoice.payment_id == payment.id)
        .values(active_invoice_no=None)
    )
    if payment.kind == PaymentKind.TOP_UP:  # its clearing result is taken back (A7)
        clearing_takeback.take_back(session, payment.reference, now)
    session.flush()
    _trail(
        session,
        payment,
        "reject",
        {"status": "PENDING_APPROVAL"},
        {"status": "REJECTED", "reason": reason},
        actor,
        now,
    )
    return payment


# --- the bank ---------------------------------------------------------------------------------


def submit_due(
    session: Session,
    fund: FundLedger,
    *,
    today: date,
    now: datetime,
    admit: Callable[[Any, int], bool] | None = None,
) -> list[str]:
    """The approved, unsent payments of the fund's region with something to pay, in approval
    order (approved_at, id): each gets an instruction to the person's account (payee type
    person) when `admit(payment, paid_fen)` lets it (the 610 funds check, as
    `payables.Flow.submit_due`); one not admitted stays NOT_SENT for the next submission.
    A re-approved one is resent under `<first>-R<n>`. Returns the instruction ids created."""
    assert fund.insutype == person_entries.ASSISTANCE, "persons are paid from the 610 fund"
    due = session.scalars(
        select(PersonPayment)
        .where(
            PersonPayment.region_code == fund.region_code,
            PersonPayment.status == S.NOT_SENT,
            PersonPayment.paid_fen > 0,
        )
        .order_by(PersonPayment.approved_at, PersonPayment.id)
        .with_for_update()
    ).all()
    persons = recipients.find_many(session, [payment.psn_no for payment in due])
    resends = _resends(session, [p.first_instruction_id for p in due if p.first_instruction_id])
    items = []
    for payment in due:
        recipient = persons.get(payment.psn_no)
        if recipient is None or not (
            recipient.bank_account and recipient.bank_account_name and recipient.bank_code
        ):
            continue  # approval checked it; an account removed since waits for a correction
        if admit is not None and not admit(payment, payment.paid_fen):
            continue
        first_id = payment.first_instruction_id
        if first_id is None:
            first_id = bank_rules.person_instruction_id(today, fund.region_code, payment.id)
            instruction_id, resend_of = first_id, None
        else:
            instruction_id = bank_rules.resend_id(first_id, resends.get(first_id, 0) + 1)
            resend_of = first_id
        items.append(
            bank.NewInstruction(
                instruction_id=instruction_id,
                kind=bank_rules.PERSON_KIND,
                fixmedins_code=person_entries.person_slot(payment.psn_no),
                amount_fen=payment.paid_fen,
                purpose=f"{PURPOSES[PaymentKind(payment.kind)]} {payment.reference}"[:100],
                source_kind=SOURCE_KIND,
                source_id=payment.id,
                resend_of=resend_of,
                payee=bank.Payee(
                    recipient.bank_account, recipient.bank_account_name, recipient.bank_code
                ),
            )
        )
        payment.first_instruction_id, payment.instruction_id = first_id, instruction_id
        _move(payment, S.PENDING)
    bank.create_instructions(session, fund, items, requested_date=today, now=now)
    session.flush()
    return [item.instruction_id for item in items]


def _resends(session: Session, first_ids: list[str]) -> dict[str, int]:
    """How many times each first instruction was resent (one query for all)."""
    counted: dict[str, int] = {}
    for chunk in in_chunks(session, sorted(set(first_ids))):
        for first_id, count in session.execute(
            select(PaymentInstruction.resend_of, func.count())
            .where(any_of(session, PaymentInstruction.resend_of, chunk))
            .group_by(PaymentInstruction.resend_of)
        ):
            if first_id is not None:
                counted[first_id] = count
    return counted


def on_payment_result(session: Session, instruction: PaymentInstruction, now: datetime) -> None:
    """The payment follows its current instruction's result (an older one's changes nothing)."""
    payment = session.get(PersonPayment, instruction.source_id, with_for_update=True)
    if payment is None or payment.instruction_id != instruction.instruction_id:
        return
    new = status_after_payment(payment.status, instruction.status)
    if new is not None:
        payment.status = new.value
        payment.payment_result_at = now
        session.flush()


@dataclass(frozen=True)
class _Name:
    name: str


class PersonPaymentFlow:
    """The person payments as the 610 submission takes a payable document kind
    (`treasury.funds.submit_in_order`, `wiring.wire`): `kind.name`, `submit_due` with
    `admit(document, amount_fen)`, `on_payment_result`; a payment's `approved_at`, `id` and
    `fixmedins_code` (its payee slot) order it among the fund's documents."""

    kind = _Name(SOURCE_KIND)

    def submit_due(
        self,
        session: Session,
        fund: FundLedger,
        *,
        today: date,
        now: datetime,
        admit: Callable[[Any, int], bool] | None = None,
    ) -> list[str]:
        return submit_due(session, fund, today=today, now=now, admit=admit)

    def on_payment_result(
        self, session: Session, instruction: PaymentInstruction, now: datetime
    ) -> None:
        on_payment_result(session, instruction, now)


FLOW = PersonPaymentFlow()
