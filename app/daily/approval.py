"""The finance side of a daily batch (SPEC §3.4): approval (maker–checker; a second
accountant above the threshold), rejection, hold-back of lines and the push again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.daily import rules
from app.daily.batches import approval_refusal, approvals, get_batch, get_line, makers
from app.daily.models import DailyApproval, DailyBatch, DailyLine
from app.daily.rules import BATCH, BatchStatus
from app.errors import Conflict, Forbidden
from app.institutions import service as institutions
from app.trail import service as trail


def approve(session: Session, batch_id: int, *, actor: Principal, now: datetime) -> DailyBatch:
    """Approve (maker–checker; a second, different accountant above the threshold).
    Approving again what one already approved returns the batch unchanged."""
    batch = get_batch(session, batch_id, lock=True)
    current = approvals(session, batch)
    if any(a.approver == actor.name for a in current) and batch.status in (
        BatchStatus.PUSHED,
        BatchStatus.APPROVED,
        BatchStatus.SUBMITTED,
    ):
        return batch
    if batch.status != BatchStatus.PUSHED:
        raise Conflict(f"daily batch {batch_id} is {batch.status}, not awaiting approval")
    refusal = approval_refusal(makers(session, [batch.id])[batch.id], actor)
    if refusal is not None:
        raise Forbidden(refusal)
    session.add(
        DailyApproval(
            batch_id=batch.id, push_round=batch.push_round, approver=actor.name, approved_at=now
        )
    )
    if len(current) + 1 >= batch.approvals_required:
        BATCH.check(batch.status, BatchStatus.APPROVED)
        batch.status = BatchStatus.APPROVED
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="daily_batch.approve",
        entity="daily_batch",
        key=str(batch.id),
        before={"status": BatchStatus.PUSHED},
        after={"status": batch.status},
        now=now,
    )
    return batch


def reject(
    session: Session, batch_id: int, reason: str, *, actor: Principal, now: datetime
) -> DailyBatch:
    batch = get_batch(session, batch_id, lock=True)
    if batch.status == BatchStatus.REJECTED and batch.rejected_reason == reason:
        return batch
    if batch.status != BatchStatus.PUSHED:
        raise Conflict(f"daily batch {batch_id} is {batch.status}, not awaiting approval")
    BATCH.check(batch.status, BatchStatus.REJECTED)
    batch.status = BatchStatus.REJECTED
    batch.rejected_reason = reason
    batch.rejected_by = actor.name
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="daily_batch.reject",
        entity="daily_batch",
        key=str(batch.id),
        before={"status": BatchStatus.PUSHED},
        after={"status": BatchStatus.REJECTED, "reason": reason},
        now=now,
    )
    return batch


def hold_line(
    session: Session, batch_id: int, code: str, held: bool, *, actor: Principal, now: datetime
) -> DailyLine:
    """Hold back (or release) one line of a rejected batch: its settlements then wait for the
    monthly settlement."""
    batch = get_batch(session, batch_id, lock=True)
    if batch.status != BatchStatus.REJECTED:
        raise Conflict("lines are held back only in a rejected batch, before it is pushed again")
    line = get_line(session, batch_id, code)
    if line.held != held:
        line.held = held
        line.held_by = actor.name
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="daily_line.hold" if held else "daily_line.release",
            entity="daily_batch",
            key=f"{batch.id}:{code}",
            before={"held": not held},
            after={"held": held},
            now=now,
        )
    return line


def push(session: Session, batch_id: int, *, actor: Principal, now: datetime) -> DailyBatch:
    """Push a rejected batch to finance again (a new approval round)."""
    batch = get_batch(session, batch_id, lock=True)
    if batch.status != BatchStatus.REJECTED:
        raise Conflict(
            f"daily batch {batch_id} is {batch.status}; only a rejected batch is pushed again"
        )
    BATCH.check(batch.status, BatchStatus.PUSHED)
    batch.status = BatchStatus.PUSHED
    batch.push_round += 1
    batch.pushed_by = actor.name
    batch.pushed_at = now
    batch.rejected_reason = None
    held_amount = session.scalar(
        select(func.coalesce(func.sum(DailyLine.amount_fen), 0)).where(
            DailyLine.batch_id == batch.id, DailyLine.held.is_(False)
        )
    )
    policy = institutions.policy_on(session, batch.fund_ledger_id, batch.business_date)
    threshold = policy.approval_threshold_fen if policy else None
    batch.approvals_required = rules.approvals_required(int(held_amount or 0), threshold)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="daily_batch.push",
        entity="daily_batch",
        key=str(batch.id),
        before={"status": BatchStatus.REJECTED},
        after={"status": BatchStatus.PUSHED, "round": batch.push_round},
        now=now,
    )
    return batch
