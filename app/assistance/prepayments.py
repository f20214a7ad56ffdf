"""The yearly prepayment to the assistance fund (预付款, SPEC-ASSISTANCE A8, A10 "Prepayment"):
computed from the ledger, approved by two accountants with the finance bureau's reference,
received with the bank's reference. Flush-only; records its own audit trail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import policies
from app.assistance.policy_models import PrepaymentApproval, PrepaymentRow
from app.assistance.prepayment import (
    PREPAYMENT,
    PREPAYMENT_APPROVALS_NEEDED,
    PrepaymentStatus,
    prepayment,
    prepayment_applies,
    prepayment_date,
)
from app.auth.principal import Principal
from app.clock import at_shanghai
from app.errors import Conflict, NotFound
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.ledger import entries
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.money import yuan
from app.trail import service as trail

INSUTYPE = "610"
S = PrepaymentStatus


def year_end(year: int) -> datetime:
    """The last instant of a Shanghai calendar year: entries effective at or before it."""
    return at_shanghai(date(year + 1, 1, 1), time(0)) - timedelta(microseconds=1)


def _as_of(session: Session, code: str, at: datetime) -> int:
    try:
        return ledger.balance_as_of(session, code, at)
    except NotFound:
        return 0  # no such account yet: nothing was ever posted to it


def _expense_as_of(session: Session, region_code: str, at: datetime) -> int:
    """The region's 610 expense at a time: every `expense` account of the fund (kept per
    institution or person today, region-level `expense:R:610` in A1), normal direction."""
    return sum(
        account.balance_fen
        for account in ledger.balances(
            session, region_code=region_code, insutype=INSUTYPE, as_of=at
        )
        if account.name == "expense"
    )


def actual_expense(session: Session, region_code: str, year: int) -> int:
    """Σ postings to the 610 expense effective in the (Shanghai) year, normal direction."""
    return _expense_as_of(session, region_code, year_end(year)) - _expense_as_of(
        session, region_code, year_end(year - 1)
    )


def carried_balance(session: Session, region_code: str, year: int) -> int:
    """`bank:R:610` at the end of the year (年末余额结转)."""
    return _as_of(session, account_code("bank", region_code, INSUTYPE), year_end(year))


@dataclass(frozen=True)
class Due:
    """Whether a fund's prepayment of `year` is computed on `today`, and with which rate."""

    year: int
    day: date
    rate_bp: int


def due_on(
    session: Session, fund: FundLedger, today: date, is_working: Callable[[date], bool]
) -> Due | None:
    """The prepayment of today's year when the fund was on before 1 January of it, the policy
    in force on 1 January gives a prepayment day and today is on or after the first working
    day on or after it; None otherwise."""
    year = today.year
    on_dec_31 = institutions.policy_on(session, fund.id, date(year - 1, 12, 31))
    if on_dec_31 is None or not prepayment_applies(on_dec_31.effective_from, year):
        return None
    policy = policies.policy_on(session, fund.region_code, date(year, 1, 1))
    if policy is None:
        return None
    day = prepayment_date(year, policy.prepayment_day, is_working)
    if today < day:
        return None
    return Due(year, day, policy.prepayment_rate_bp)


def find(session: Session, region_code: str, year: int) -> PrepaymentRow | None:
    return session.scalar(
        select(PrepaymentRow).where(
            PrepaymentRow.region_code == region_code, PrepaymentRow.year == year
        )
    )


def compute(
    session: Session, fund: FundLedger, due: Due, *, today: date, actor: Principal, now: datetime
) -> tuple[PrepaymentRow, bool]:
    """Compute the prepayment of the fund's region and year once: (row, created); a second
    run finds the first (idempotent per region and year)."""
    existing = find(session, fund.region_code, due.year)
    if existing is not None:
        return existing, False
    result = prepayment(
        due.year,
        actual_fen=actual_expense(session, fund.region_code, due.year - 1),
        carried_fen=carried_balance(session, fund.region_code, due.year - 1),
        rate_bp=due.rate_bp,
    )
    row = PrepaymentRow(
        region_code=fund.region_code,
        year=due.year,
        computed_on=today,
        actual_fen=result.actual_fen,
        rate_bp=result.rate_bp,
        due_fen=result.due_fen,
        carried_fen=result.carried_fen,
        transfer_fen=result.transfer_fen,
        status=S.COMPUTED.value,
        computed_at=now,
    )
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="prepayment.compute",
        entity="assistance_prepayment",
        key=f"{fund.region_code}:{due.year}",
        before=None,
        after=_snapshot(row),
        now=now,
    )
    return row, True


def _snapshot(row: PrepaymentRow) -> dict[str, Any]:
    return {
        "status": row.status,
        "actual": yuan(row.actual_fen),
        "rate_bp": row.rate_bp,
        "due": yuan(row.due_fen),
        "carried": yuan(row.carried_fen),
        "transfer": yuan(row.transfer_fen),
        "bank_reference": row.bank_reference,
    }


def get(session: Session, prepayment_id: int, *, lock: bool = False) -> PrepaymentRow:
    row = session.get(PrepaymentRow, prepayment_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no prepayment {prepayment_id}")
    return row


def get_by_key(session: Session, region_code: str, year: int) -> PrepaymentRow:
    row = find(session, region_code, year)
    if row is None:
        raise NotFound(f"no prepayment of {region_code} for {year}")
    return row


def approvals(session: Session, prepayment_ids: list[int]) -> dict[int, list[PrepaymentApproval]]:
    result: dict[int, list[PrepaymentApproval]] = {pid: [] for pid in prepayment_ids}
    if prepayment_ids:
        rows = session.scalars(
            select(PrepaymentApproval)
            .where(PrepaymentApproval.prepayment_id.in_(prepayment_ids))
            .order_by(PrepaymentApproval.approved_at, PrepaymentApproval.id)
        )
        for approval in rows:
            result[approval.prepayment_id].append(approval)
    return result


def approve(
    session: Session, prepayment_id: int, approval_ref: str, *, actor: Principal, now: datetime
) -> PrepaymentRow:
    """One accountant's approval with the finance bureau's reference (报同级财政部门审批).
    The second approval by another accountant makes it APPROVED. The same accountant again
    with the same reference is a replay; with another reference, or after two approvals by
    others, a Conflict (maker-checker: one person never counts twice)."""
    row = get(session, prepayment_id, lock=True)
    given = approvals(session, [row.id])[row.id]
    mine = next((a for a in given if a.approver == actor.name), None)
    if mine is not None:
        if mine.approval_ref != approval_ref:
            raise Conflict(
                f"{actor.name} approved prepayment {row.id} with {mine.approval_ref}",
                code="already-approved",
            )
        return row  # a replay
    if row.status != S.COMPUTED or len(given) >= PREPAYMENT_APPROVALS_NEEDED:
        raise Conflict(f"prepayment {row.id} is {row.status}", code="invalid-state")
    session.add(
        PrepaymentApproval(
            prepayment_id=row.id, approver=actor.name, approval_ref=approval_ref, approved_at=now
        )
    )
    before = _snapshot(row)
    if len(given) + 1 >= PREPAYMENT_APPROVALS_NEEDED:
        PREPAYMENT.check(S(row.status), S.APPROVED)
        row.status = S.APPROVED.value
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="prepayment.approve",
        entity="assistance_prepayment",
        key=f"{row.region_code}:{row.year}",
        before=before,
        after={**_snapshot(row), "approval_ref": approval_ref},
        now=now,
    )
    return row


def receive(
    session: Session, prepayment_id: int, bank_reference: str, *, actor: Principal, now: datetime
) -> PrepaymentRow:
    """The finance bureau's transfer arrived (or a zero transfer is recorded): RECEIVED and,
    for a transfer > 0, `bank:R:610` → `appropriation:R:610`. The same reference again is a
    replay; another one a Conflict; before two approvals a Conflict."""
    row = get(session, prepayment_id, lock=True)
    if row.status == S.RECEIVED:
        if row.bank_reference != bank_reference:
            raise Conflict(
                f"prepayment {row.id} was received with {row.bank_reference}",
                code="already-received",
            )
        return row
    if row.status != S.APPROVED:
        raise Conflict(
            f"prepayment {row.id} is {row.status}: two accountants approve it first",
            code="invalid-state",
        )
    before = _snapshot(row)
    PREPAYMENT.check(S(row.status), S.RECEIVED)
    row.status = S.RECEIVED.value
    row.bank_reference = bank_reference
    row.received_at = now
    row.received_by = actor.name
    draft = entries.prepayment_received(
        region_code=row.region_code,
        year=row.year,
        prepayment_id=row.id,
        transfer_fen=row.transfer_fen,
        effective_at=now,
    )
    if draft is not None:
        ledger.post(session, draft, now=now)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="prepayment.receive",
        entity="assistance_prepayment",
        key=f"{row.region_code}:{row.year}",
        before=before,
        after=_snapshot(row),
        now=now,
    )
    return row


def listing(
    session: Session,
    *,
    region_code: str | None = None,
    year: int | None = None,
    status: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[PrepaymentRow]:
    query = select(PrepaymentRow).order_by(PrepaymentRow.id).limit(limit)
    if region_code is not None:
        query = query.where(PrepaymentRow.region_code == region_code)
    if year is not None:
        query = query.where(PrepaymentRow.year == year)
    if status is not None:
        query = query.where(PrepaymentRow.status == status)
    if after_id is not None:
        query = query.where(PrepaymentRow.id > after_id)
    return list(session.scalars(query))


def scenario_rows(session: Session) -> list[dict[str, Any]]:
    """SCENARIOS.md `prepayments` rows, sorted by (year, region)."""
    rows = session.scalars(
        select(PrepaymentRow).order_by(PrepaymentRow.year, PrepaymentRow.region_code)
    )
    return [
        {
            "year": row.year,
            "region": row.region_code,
            "actual": yuan(row.actual_fen),
            "due": yuan(row.due_fen),
            "carried": yuan(row.carried_fen),
            "transfer": yuan(row.transfer_fen),
            "status": row.status,
        }
        for row in rows
    ]


def compute_due(
    session: Session,
    fund: FundLedger,
    *,
    today: date,
    is_working: Callable[[date], bool],
    actor: Principal,
    now: datetime,
) -> PrepaymentRow | None:
    """The job's step for one 610 fund: compute the year's prepayment when it is due."""
    due = due_on(session, fund, today, is_working)
    if due is None:
        return None
    row, _ = compute(session, fund, due, today=today, actor=actor, now=now)
    return row
