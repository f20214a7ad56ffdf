"""What persons owe the assistance fund (SPEC-ASSISTANCE A7 "< 0", A10 "Recovery"): claims
(negative clearing results), their notices, what payments and cash repayments recover, and the
person receivables. Flush-only; records its own audit trail.

The receivable of a person is the sum of the open amounts of their claims; the ledger's
`receivable:R:610:P<psn_no>` moves with it (a claim posts receivable → expense, a deduction
payable → receivable at the payment's approval, a cash repayment bank → receivable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assistance import recovery
from app.assistance.models import Recipient
from app.assistance.person_models import ClaimRecovery, PersonClaim, PersonRepayment
from app.auth.principal import Principal
from app.errors import Conflict, NotFound
from app.ledger import person_entries
from app.ledger import service as ledger
from app.money import yuan
from app.trail import service as trail


def lock_person(session: Session, psn_no: str) -> None:
    """Serialise the work that moves a person's claims (approvals, repayments, claims) until
    commit: the register's row of the person, taken before any payment or claim row."""
    session.execute(select(Recipient.id).where(Recipient.psn_no == psn_no).with_for_update())


def add_claim(
    session: Session,
    *,
    reference: str,
    psn_no: str,
    region_code: str,
    year: int,
    amount_fen: int,
    resolution: recovery.Resolution,
    made_at: datetime,
    now: datetime,
) -> PersonClaim:
    """A negative clearing result becomes a claim of `amount_fen` (> 0, what the person owes)
    and is posted receivable:P → expense. Idempotent on the clearing's reference: the same
    claim again returns it, another one under that reference is a conflict."""
    assert amount_fen > 0, "a claim is what the person owes: > 0"
    lock_person(session, psn_no)  # before the look-up: the same claim twice at once is a replay
    existing = session.scalar(select(PersonClaim).where(PersonClaim.reference == reference))
    if existing is not None:
        same = (existing.psn_no, existing.region_code, existing.year, existing.amount_fen) == (
            psn_no,
            region_code,
            year,
            amount_fen,
        ) and existing.resolution == resolution.value
        if not same:
            raise Conflict(f"clearing {reference} has another claim", code="claim-conflict")
        return existing
    claim = PersonClaim(
        reference=reference,
        psn_no=psn_no,
        region_code=region_code,
        year=year,
        amount_fen=amount_fen,
        open_fen=amount_fen,
        resolution=resolution.value,
        made_at=made_at,
    )
    session.add(claim)
    session.flush()
    ledger.post(
        session,
        person_entries.person_claim(
            reference=reference,
            region_code=region_code,
            psn_no=psn_no,
            amount_fen=amount_fen,
            effective_at=made_at,
        ),
        now=now,
    )
    return claim


def get_claim(session: Session, reference: str, *, lock: bool = False) -> PersonClaim:
    query = select(PersonClaim).where(PersonClaim.reference == reference)
    if lock:
        query = query.with_for_update()
    claim = session.scalar(query.execution_options(populate_existing=True))
    if claim is None:
        raise NotFound(f"no claim of clearing {reference}")
    return claim


def notice_delivered(
    session: Session, reference: str, *, actor: Principal, now: datetime
) -> PersonClaim:
    """事前告知: the notice of the claim was delivered (from now on a `next_period` claim is
    deducted from the person's payments). Marking it again changes nothing."""
    claim = get_claim(session, reference, lock=True)
    if claim.notice_delivered_at is None:
        claim.notice_delivered_at, claim.notice_delivered_by = now, actor.name
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="person_claim.notice_delivered",
            entity="person_claim",
            key=reference,
            before={"notice_delivered": False},
            after={"notice_delivered": True},
            now=now,
        )
    return claim


def open_claims(session: Session, psn_no: str, region_code: str) -> list[PersonClaim]:
    """The person's claims with something open, locked, oldest first (A10)."""
    return list(
        session.scalars(
            select(PersonClaim)
            .where(
                PersonClaim.psn_no == psn_no,
                PersonClaim.region_code == region_code,
                PersonClaim.open_fen > 0,
            )
            .order_by(PersonClaim.made_at, PersonClaim.reference)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def as_rule(claim: PersonClaim) -> recovery.Claim:
    return recovery.Claim(
        key=claim.reference,
        at=claim.made_at,
        resolution=recovery.Resolution(claim.resolution),
        open_fen=claim.open_fen,
        notice_delivered=claim.notice_delivered_at is not None,
    )


def take(
    session: Session,
    claims: Sequence[PersonClaim],
    recoveries: Sequence[recovery.Recovery],
    *,
    now: datetime,
    payment_id: int | None = None,
    repayment_id: int | None = None,
) -> None:
    """Reduce each claim by what was recovered from it, and record where it came from."""
    by_key = {claim.reference: claim for claim in claims}
    for item in recoveries:
        claim = by_key[item.claim_key]
        assert 0 < item.amount_fen <= claim.open_fen
        claim.open_fen -= item.amount_fen
        session.add(
            ClaimRecovery(
                claim_id=claim.id,
                payment_id=payment_id,
                repayment_id=repayment_id,
                amount_fen=item.amount_fen,
                recovered_at=now,
            )
        )
    session.flush()


# --- cash repayments (现金追款) ---------------------------------------------------------------


def record_repayment(
    session: Session,
    *,
    psn_no: str,
    region_code: str,
    amount_fen: int,
    receipt_no: str,
    actor: Principal,
    now: datetime,
) -> tuple[PersonRepayment, bool]:
    """A cash repayment against the person's receivable: cash claims first, then next-period
    ones (notice delivered or not), oldest first; above the open receivable 422. Idempotent
    on the receipt number: (row, True) recorded, (row, False) the same again; another
    repayment under that receipt number is a conflict."""
    existing = session.scalar(
        select(PersonRepayment).where(PersonRepayment.receipt_no == receipt_no)
    )
    if existing is None:
        lock_person(session, psn_no)
        existing = session.scalar(
            select(PersonRepayment).where(PersonRepayment.receipt_no == receipt_no)
        )
    if existing is not None:
        if (existing.psn_no, existing.region_code, existing.amount_fen) != (
            psn_no,
            region_code,
            amount_fen,
        ):
            raise Conflict(f"receipt {receipt_no} is another repayment", code="receipt-conflict")
        return existing, False
    claims = open_claims(session, psn_no, region_code)
    recoveries = recovery.allocate_repayment(amount_fen, [as_rule(claim) for claim in claims])
    repayment = PersonRepayment(
        receipt_no=receipt_no,
        psn_no=psn_no,
        region_code=region_code,
        amount_fen=amount_fen,
        recorded_at=now,
        recorded_by=actor.name,
    )
    session.add(repayment)
    session.flush()
    take(session, claims, recoveries, now=now, repayment_id=repayment.id)
    ledger.post(
        session,
        person_entries.person_repayment(
            receipt_no=receipt_no,
            repayment_id=repayment.id,
            region_code=region_code,
            psn_no=psn_no,
            amount_fen=amount_fen,
            effective_at=now,
        ),
        now=now,
    )
    trail.record(
        session,
        actor=actor,
        action="person_repayment.record",
        entity="person_repayment",
        key=receipt_no,
        before=None,
        after={
            "region_code": region_code,
            "amount": yuan(amount_fen),
            "claims": {item.claim_key: yuan(item.amount_fen) for item in recoveries},
        },
        now=now,
    )
    return repayment, True


def repayment_claims(session: Session, repayment_id: int) -> dict[str, int]:
    """What a repayment settled, per claim (the clearing's reference)."""
    rows = session.execute(
        select(PersonClaim.reference, ClaimRecovery.amount_fen)
        .join(PersonClaim, PersonClaim.id == ClaimRecovery.claim_id)
        .where(ClaimRecovery.repayment_id == repayment_id)
        .order_by(ClaimRecovery.id)
    ).all()
    return {reference: amount for reference, amount in rows}


# --- receivables ------------------------------------------------------------------------------


def receivables(
    session: Session, *, region_code: str | None = None, psn_no: str | None = None
) -> list[dict[str, Any]]:
    """One row per recipient of the register (zero included) and per person with a claim in
    another region: (region, psn_no, balance in fen), sorted by region then psn_no."""
    owed: dict[tuple[str, str], int] = {}
    claim_query = select(
        PersonClaim.region_code, PersonClaim.psn_no, func.sum(PersonClaim.open_fen)
    ).group_by(PersonClaim.region_code, PersonClaim.psn_no)
    person_query = select(Recipient.region_code, Recipient.psn_no)
    if region_code is not None:
        claim_query = claim_query.where(PersonClaim.region_code == region_code)
        person_query = person_query.where(Recipient.region_code == region_code)
    if psn_no is not None:
        claim_query = claim_query.where(PersonClaim.psn_no == psn_no)
        person_query = person_query.where(Recipient.psn_no == psn_no)
    for region, person in session.execute(person_query).all():
        owed[(region, person)] = 0
    for region, person, total in session.execute(claim_query).all():
        owed[(region, person)] = int(total or 0)
    return [
        {"region": region, "psn_no": person, "balance_fen": balance}
        for (region, person), balance in sorted(owed.items())
    ]


def scenario_rows_person_receivables(session: Session) -> list[dict[str, Any]]:
    """SCENARIOS.md `person_receivables`: one row per recipient, zero included, sorted by
    (region, psn_no); `balance` is what the person owes, positive."""
    return [
        {"region": row["region"], "psn_no": row["psn_no"], "balance": yuan(row["balance_fen"])}
        for row in receivables(session)
    ]
