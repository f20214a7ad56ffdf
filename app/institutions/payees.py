"""Payee changes under two people (收款账户变更, docs/rules.md "Payee changes").

An institution's bank account, account name and bank code change only through a request
(operator or admin) that a second person approves (accountant or admin, never the requester).
The approval writes the new payee onto the institution: instructions created from then on pay
it; instructions saved before keep the account they were created with (the outbox copies the
payee). Every request stays, with the account it replaced, who asked, who decided and when;
the approved ones are the payee's versions. The approval raises a `payee_changed` alert
(the hospital sees the change in its account statement and in the list of its changes).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.institutions import rules
from app.institutions.models import Institution, PayeeChange
from app.trail import service as trail

CHANGES_MAX_PER_INSTITUTION = 500


def _locked_institution(session: Session, code: str) -> Institution:
    institution = session.scalar(
        select(Institution)
        .where(Institution.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if institution is None:
        raise NotFound(f"no institution {code!r}")
    return institution


def _current(institution: Institution) -> dict[str, str]:
    return {field: getattr(institution, field) for field in rules.PAYEE_FIELDS}


def _snapshot(change: PayeeChange) -> dict[str, object]:
    return {
        "id": change.id,
        "status": change.status,
        "old": {field: getattr(change, f"old_{field}") for field in rules.PAYEE_FIELDS},
        "new": {field: getattr(change, field) for field in rules.PAYEE_FIELDS},
        "reason": change.reason,
    }


def request_change(
    session: Session,
    code: str,
    requested: dict[str, str | None],
    reason: str,
    *,
    actor: Principal,
    now: datetime,
) -> PayeeChange:
    """A pending change of the payee; nothing is paid differently until it is approved.
    One pending request per institution at a time (409 for a second)."""
    institution = _locked_institution(session, code)
    current = _current(institution)
    changed = rules.payee_changes(current, requested)
    if not changed:
        raise Invalid.field(
            "bank_account",
            "payee_changed",
            "the request changes nothing: give a bank account, account name or bank code "
            "different from the current one",
        )
    pending = session.scalar(
        select(PayeeChange.id).where(
            PayeeChange.fixmedins_code == code, PayeeChange.status == "PENDING"
        )
    )
    if pending is not None:
        raise Conflict(f"payee change {pending} of {code} is still pending: decide it first")
    count = len(list_changes(session, code))
    if count >= CHANGES_MAX_PER_INSTITUTION:
        raise Conflict(f"{code} already has {CHANGES_MAX_PER_INSTITUTION} payee changes")
    new = {**current, **changed}
    change = PayeeChange(
        fixmedins_code=code,
        status="PENDING",
        old_bank_account=current["bank_account"],
        old_bank_account_name=current["bank_account_name"],
        old_bank_code=current["bank_code"],
        bank_account=new["bank_account"],
        bank_account_name=new["bank_account_name"],
        bank_code=new["bank_code"],
        reason=reason,
        requested_by=actor.name,
        requested_at=now,
    )
    session.add(change)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="payee_change.request",
        entity="institution",
        key=code,
        before=None,
        after=_snapshot(change),
        now=now,
    )
    alerts.raise_alert(
        session,
        kind="payee_change_pending",
        subject=f"{code}:{change.id}",
        detail=f"{code} 收款账户变更申请（{actor.name} 提交），待会计或管理员复核",
        now=now,
    )
    return change


def get_change(session: Session, code: str, change_id: int, *, lock: bool = False) -> PayeeChange:
    query = select(PayeeChange).where(
        PayeeChange.id == change_id, PayeeChange.fixmedins_code == code
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    change = session.scalar(query)
    if change is None:
        raise NotFound(f"no payee change {change_id} of {code}")
    return change


def _decidable(session: Session, code: str, change_id: int, actor: Principal) -> PayeeChange:
    change = get_change(session, code, change_id, lock=True)
    refusal = rules.may_decide_payee_change(change.requested_by, actor.role, actor.name)
    if refusal is not None:
        raise Forbidden(refusal)
    return change


def approve(
    session: Session, code: str, change_id: int, *, actor: Principal, now: datetime
) -> PayeeChange:
    """The second person approves: the institution pays the new account from now on.
    Approving again what one approved returns it unchanged."""
    institution = _locked_institution(session, code)
    change = _decidable(session, code, change_id, actor)
    if change.status == "APPROVED" and change.decided_by == actor.name:
        return change
    if change.status != "PENDING":
        raise Conflict(f"payee change {change_id} is {change.status}, not pending")
    current = _current(institution)
    change.old_bank_account = current["bank_account"]
    change.old_bank_account_name = current["bank_account_name"]
    change.old_bank_code = current["bank_code"]
    for field in rules.PAYEE_FIELDS:
        setattr(institution, field, getattr(change, field))
    change.status = "APPROVED"
    change.decided_by = actor.name
    change.decided_at = now
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="payee_change.approve",
        entity="institution",
        key=code,
        before=current,
        after=_snapshot(change),
        now=now,
    )
    alerts.resolve(session, kind="payee_change_pending", subject=f"{code}:{change.id}", now=now)
    alerts.raise_alert(
        session,
        kind="payee_changed",
        subject=f"{code}:{change.id}",
        detail=(
            f"{code} 收款账户已变更：{change.old_bank_account_name} {change.old_bank_account} → "
            f"{change.bank_account_name} {change.bank_account}（{change.requested_by} 申请，"
            f"{actor.name} 复核）；此后生成的支付指令付往新账户"
        ),
        now=now,
    )
    return change


def reject(
    session: Session,
    code: str,
    change_id: int,
    note: str,
    *,
    actor: Principal,
    now: datetime,
) -> PayeeChange:
    """The second person refuses: nothing changes but the request's status."""
    change = _decidable(session, code, change_id, actor)
    if change.status == "REJECTED" and change.decided_by == actor.name:
        return change
    if change.status != "PENDING":
        raise Conflict(f"payee change {change_id} is {change.status}, not pending")
    change.status = "REJECTED"
    change.decided_by = actor.name
    change.decided_at = now
    change.decision_note = note
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="payee_change.reject",
        entity="institution",
        key=code,
        before=None,
        after=_snapshot(change),
        now=now,
    )
    alerts.resolve(session, kind="payee_change_pending", subject=f"{code}:{change.id}", now=now)
    return change


def list_changes(session: Session, code: str) -> list[PayeeChange]:
    return list(
        session.scalars(
            select(PayeeChange).where(PayeeChange.fixmedins_code == code).order_by(PayeeChange.id)
        )
    )


def approved_between(
    session: Session, code: str, start: datetime, end: datetime
) -> list[PayeeChange]:
    """The payee versions that took effect in [start, end) (the account statement shows them)."""
    return list(
        session.scalars(
            select(PayeeChange)
            .where(
                PayeeChange.fixmedins_code == code,
                PayeeChange.status == "APPROVED",
                PayeeChange.decided_at >= start,
                PayeeChange.decided_at < end,
            )
            .order_by(PayeeChange.decided_at, PayeeChange.id)
        )
    )
