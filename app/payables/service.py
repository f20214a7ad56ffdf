"""One flow for every payable document kind: get, confirm, dispute, recompute, approve, the
submission of approved documents to the bank and the following of a payment's result.

A kind plugs in a `Kind` (the adapter): its model, how to recompute it, what it pays, its
instruction id rule and its approval posting. The flow checks every status change against
`machine.DOCUMENT`, records the audit trail as `<name>.confirm`, `.dispute`, `.recompute`,
`.approve` and `.reapprove`, and only flushes (the caller holds the transaction)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.bank import rules as bank_rules
from app.bank import service as bank
from app.bank.models import PaymentInstruction
from app.errors import Conflict, Forbidden, NotFound
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.payables.machine import DOCUMENT, DocumentStatus, status_after_approval
from app.payables.machine import status_after_payment as _status_after_payment
from app.trail import service as trail

D = TypeVar("D")  # the document's model: a row with the columns the flow reads and writes
S = DocumentStatus
Change = tuple[dict[str, Any], dict[str, Any]]  # a trail event's (before, after)
MAKER_CHECKER = "nobody approves what they computed or changed (maker–checker)"


@dataclass(frozen=True)
class Payment:
    """What the bank is asked to pay for a document (its first instruction)."""

    instruction_id: str
    kind: str  # the instruction's kind ("monthly", "annual")
    purpose: str
    period: str  # YYYY-MM the payment belongs to


class Kind(Generic[D]):
    """The adapter of one payable document kind: subclass it, set the three names and
    implement the four methods (see `app.monthly.statements.StatementKind`).

    The model needs the columns `id`, `region_code`, `insutype`, `fixmedins_code`, `status`,
    `computed_by`, `confirmed_at`, `confirmed_by`, `confirmation_reference`, `disputed_at`,
    `dispute_reason`, `approved_at`, `approved_by`, `instruction_id`, `payment_result_at`,
    and the amount column named by `amount`."""

    name: str  # "statement": the trail's entity and action prefix, the instruction's source
    model: type[D]
    amount: str  # the column paid when > 0 ("net_fen", "actual_fen")
    # A payment the bank returned (退票) is owed again. Monthly statements and annual
    # clearings leave it to the next monthly statement's `returned` part (SPEC §4): False.
    # A kind with nothing that takes returns re-approves and resends the document itself.
    resend_returned: bool = False

    def components(self, document: D) -> dict[str, Any]:
        """What a recompute may change: the trail's before and after."""
        raise NotImplementedError

    def recompute(self, session: Session, document: D, now: datetime, by: str) -> None:
        """Release what the document took and compute it again (status COMPUTED), or raise
        `Conflict`; the fund ledger's lock and the document's row are held."""
        raise NotImplementedError

    def post_approval(self, session: Session, document: D, now: datetime) -> None:
        """Post the approval's journal entry (SPEC §6), once per version."""
        raise NotImplementedError

    def payment(self, document: D, fund: FundLedger) -> Payment:
        """The document's first instruction (its id rule, kind, purpose and period)."""
        raise NotImplementedError


class Flow(Generic[D]):
    """The payable-document flow of one kind."""

    def __init__(self, kind: Kind[D]) -> None:
        self.kind = kind

    def get(
        self,
        session: Session,
        document_id: int,
        *,
        actor: Principal,
        lock: bool = False,
        fund_lock: bool = False,
    ) -> D:
        """The document; `lock` holds its row; `fund_lock` takes the fund ledger's lock first
        (where offsets move: the order every such path takes, fund ledger then document)."""
        model: Any = self.kind.model
        if fund_lock:
            known: Any = self.get(session, document_id, actor=actor)
            fund = institutions.get_fund_ledger(session, known.region_code, known.insutype)
            institutions.lock_fund_ledger(session, fund.id)
        query = select(model).where(model.id == document_id)
        if lock:
            query = query.with_for_update()
        document = session.scalar(query.execution_options(populate_existing=True))
        if document is None or (
            actor.is_hospital and actor.fixmedins_code != document.fixmedins_code
        ):
            raise NotFound(f"no {self.kind.name} {document_id}")
        return document

    def documents(
        self, session: Session, *, after_id: int | None, limit: int, **filters: Any
    ) -> list[D]:
        """A page of documents in id order after `after_id`; each filter given (not None) is
        an equality on the column of that name."""
        model: Any = self.kind.model
        query = select(model).order_by(model.id).limit(limit)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(model, name) == value)
        if after_id is not None:
            query = query.where(model.id > after_id)
        return list(session.scalars(query))

    def _record(
        self,
        session: Session,
        document: Any,
        action: str,
        change: Change,
        by: Principal,
        now: datetime,
    ) -> None:
        """Record `<kind>.<action>` with its (before, after) in the trail."""
        before, after = change
        trail.record(
            session,
            actor=by,
            action=f"{self.kind.name}.{action}",
            entity=self.kind.name,
            key=str(document.id),
            before=before,
            after=after,
            now=now,
        )

    def _move(self, document: Any, new: DocumentStatus) -> None:
        DOCUMENT.check(document.status, new)
        document.status = new.value

    def _awaiting_hospital(
        self, session: Session, document_id: int, actor: Principal, done: str, refusal: str
    ) -> tuple[Any, bool]:
        """The document, its row locked, and True when it awaits the hospital (COMPUTED).
        One whose `done` column is set was answered already (False: returned unchanged);
        any other is a conflict, `refusal` saying why."""
        document: Any = self.get(session, document_id, actor=actor, lock=True)
        if document.status == S.COMPUTED:
            return document, True
        if getattr(document, done) is not None:
            return document, False
        raise Conflict(f"{self.kind.name} {document_id} is {document.status}{refusal}")

    def _answered(
        self,
        session: Session,
        document: Any,
        new: DocumentStatus,
        values: dict[str, Any],
        detail: dict[str, Any],
        *,
        actor: Principal,
        now: datetime,
    ) -> None:
        """The hospital's answer: COMPUTED → `new` with `values` set, in the trail with
        `detail`."""
        self._move(document, new)
        for column, value in values.items():
            setattr(document, column, value)
        session.flush()
        after = {"status": new.value, **detail}
        action = "confirm" if new == S.CONFIRMED else "dispute"
        before = {"status": S.COMPUTED.value}
        self._record(session, document, action, (before, after), actor, now)

    def confirm(
        self,
        session: Session,
        document_id: int,
        *,
        reference: str | None,
        actor: Principal,
        now: datetime,
    ) -> D:
        """The hospital confirms, in the system or by a stamped document's reference;
        confirming again returns it unchanged."""
        refusal = ", not awaiting confirmation"
        document, awaiting = self._awaiting_hospital(
            session, document_id, actor, "confirmed_at", refusal
        )
        if awaiting:
            values = {
                "confirmed_at": now,
                "confirmed_by": actor.name,
                "confirmation_reference": reference,
            }
            detail = {"reference": reference}
            self._answered(session, document, S.CONFIRMED, values, detail, actor=actor, now=now)
        return document

    def dispute(
        self, session: Session, document_id: int, reason: str, *, actor: Principal, now: datetime
    ) -> D:
        """The hospital disputes; the document goes back to the operator. Again: unchanged."""
        refusal = "; only a computed one is disputed"
        document, awaiting = self._awaiting_hospital(
            session, document_id, actor, "disputed_at", refusal
        )
        if awaiting:
            values = {"disputed_at": now, "dispute_reason": reason[:300]}
            detail = {"reason": reason}
            self._answered(session, document, S.DISPUTED, values, detail, actor=actor, now=now)
        return document

    def recompute(
        self, session: Session, document_id: int, *, actor: Principal, now: datetime
    ) -> D:
        """The operator recomputes a disputed document (the kind releases what it took)."""
        document: Any = self.get(session, document_id, actor=actor, lock=True, fund_lock=True)
        if document.status != S.DISPUTED:
            raise Conflict(
                f"{self.kind.name} {document_id} is {document.status}; "
                "only a disputed one is recomputed"
            )
        DOCUMENT.check(document.status, S.COMPUTED)
        before = self.kind.components(document)
        self.kind.recompute(session, document, now, actor.name)
        assert document.status == S.COMPUTED, "a recompute leaves the document computed"
        after = self.kind.components(document)
        self._record(session, document, "recompute", (before, after), actor, now)
        return document

    def approval_refusal(self, document: D, actor: Principal) -> str | None:
        """Why `actor` may not approve (or re-approve) the document (maker–checker: nobody
        approves what they computed or changed), or None. approve() refuses with it."""
        if actor.name == getattr(document, "computed_by"):  # noqa: B009
            return MAKER_CHECKER
        return None

    def approve(self, session: Session, document_id: int, *, actor: Principal, now: datetime) -> D:
        """Approve a confirmed document (maker–checker), posting it (SPEC §6); or re-approve
        a failed payment for resending. Approving twice posts once."""
        document: Any = self.get(session, document_id, actor=actor, lock=True, fund_lock=True)
        resendable = (S.FAILED, S.RETURNED) if self.kind.resend_returned else (S.FAILED,)
        if document.status in resendable:
            refusal = self.approval_refusal(document, actor)
            if refusal is not None:
                raise Forbidden(refusal)
            before = {"status": document.status}
            self._move(document, S.APPROVED)
            document.approved_at, document.approved_by = now, actor.name
            session.flush()
            after = {"status": "APPROVED"}
            self._record(session, document, "reapprove", (before, after), actor, now)
            return document
        if document.status != S.CONFIRMED:
            if document.approved_at is not None:
                return document
            raise Conflict(f"{self.kind.name} {document_id} is {document.status}, not confirmed")
        refusal = self.approval_refusal(document, actor)
        if refusal is not None:
            raise Forbidden(refusal)
        self.kind.post_approval(session, document, now)
        self._move(document, status_after_approval(getattr(document, self.kind.amount)))
        document.approved_at, document.approved_by = now, actor.name
        session.flush()
        change = ({"status": S.CONFIRMED.value}, {"status": document.status})
        self._record(session, document, "approve", change, actor, now)
        return document

    def submit_due(
        self,
        session: Session,
        fund: FundLedger,
        *,
        today: date,
        now: datetime,
        admit: Callable[[Any, int], bool] | None = None,
    ) -> list[str]:
        """Approved documents with an amount > 0 leave with the submission: a first
        instruction, or after a failure and re-approval a resend with a new id linked to the
        first. Returns the instruction ids created. `admit(document, amount_fen)`, when
        given, is asked for each document that would be sent now: False leaves it APPROVED
        and unsent (the assistance fund's funds check)."""
        model: Any = self.kind.model
        amount = getattr(model, self.kind.amount)
        documents = session.scalars(
            select(model)
            .where(
                model.region_code == fund.region_code,
                model.insutype == fund.insutype,
                model.status == S.APPROVED,
                amount > 0,
            )
            .order_by(model.id)
        ).all()
        items = []
        for document in documents:
            payment = self.kind.payment(document, fund)
            first_id = payment.instruction_id
            instruction_id, resend_of = first_id, None
            if document.instruction_id is not None:
                current = session.get(PaymentInstruction, document.instruction_id)
                if current is None or current.status not in ("FAILED", "RETURNED"):
                    continue  # sent already, awaiting its result
                resends = (
                    session.scalar(
                        select(func.count())
                        .select_from(PaymentInstruction)
                        .where(PaymentInstruction.resend_of == first_id)
                    )
                    or 0
                )
                instruction_id, resend_of = bank_rules.resend_id(first_id, resends + 1), first_id
            if admit is not None and not admit(document, getattr(document, self.kind.amount)):
                continue
            items.append(
                bank.NewInstruction(
                    instruction_id=instruction_id,
                    kind=payment.kind,
                    fixmedins_code=document.fixmedins_code,
                    amount_fen=getattr(document, self.kind.amount),
                    purpose=payment.purpose,
                    source_kind=self.kind.name,
                    source_id=document.id,
                    period=payment.period,
                    resend_of=resend_of,
                )
            )
            document.instruction_id = instruction_id
        bank.create_instructions(session, fund, items, requested_date=today, now=now)
        session.flush()
        return [item.instruction_id for item in items]

    def on_payment_result(
        self, session: Session, instruction: PaymentInstruction, now: datetime
    ) -> None:
        """The document follows its current instruction's result (an older instruction's
        result changes nothing)."""
        document: Any = session.get(self.kind.model, instruction.source_id, with_for_update=True)
        if document is None or document.instruction_id != instruction.instruction_id:
            return
        document.status = _status_after_payment(document.status, instruction.status).value
        document.payment_result_at = now
        session.flush()
