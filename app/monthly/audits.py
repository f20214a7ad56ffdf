"""Smart audit (智能审核): initial result → appeal (within the window) → review → consultation;
unappealed results become final when the window closes. Amounts only go down, and a
settlement's deductions never exceed its fund amount."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import business_date
from app.errors import Conflict, DomainError, FieldError, Invalid, NotFound
from app.institutions import service as institutions
from app.monthly import rules
from app.monthly.models import AuditItem, AuditStep
from app.settlements.models import Revocation, Settlement
from app.workdays import service as workdays

# An audit result's settlement: by id and by the period the result keeps of it, which names
# the settlement's partition on PostgreSQL (migration 0032) instead of probing every month.
SETTLEMENT_OF_AUDIT = (Settlement.id == AuditItem.settlement_id) & (
    Settlement.period == AuditItem.period
)

BULK_AUDITS_MAX = 5000


def _settlement(session: Session, code: str, setl_id: str, *, lock: bool = False) -> Settlement:
    """The settlement; `lock` serialises the audit results and the revocation of one
    settlement (the deduction cap and "no audit on a revoked settlement" hold under
    concurrency)."""
    query = select(Settlement).where(
        Settlement.fixmedins_code == code, Settlement.setl_id == setl_id
    )
    if lock:
        query = query.with_for_update(key_share=True)
    settlement = session.scalar(query)
    if settlement is None:
        raise NotFound(f"no settlement {setl_id} of {code}")
    return settlement


def lock_settlements(session: Session, keys: list[tuple[str, str]]) -> None:
    """Lock the settlements of a bulk import up front, in one order (their ids), so two
    imports that share settlements wait for each other instead of deadlocking."""
    wanted = sorted(set(keys))
    # One statement on PostgreSQL (≤ 5,000 pairs); SQLite has no row locks (one writer).
    size = max(len(wanted), 1) if session.get_bind().dialect.name == "postgresql" else 900
    for start in range(0, len(wanted), size):
        chunk = wanted[start : start + size]
        session.execute(
            select(Settlement.id)
            .where(tuple_(Settlement.fixmedins_code, Settlement.setl_id).in_(chunk))
            .order_by(Settlement.id)
            .with_for_update(key_share=True)
        ).all()


def get(
    session: Session, code: str, setl_id: str, rule_code: str, *, lock: bool = False
) -> AuditItem:
    settlement = _settlement(session, code, setl_id)
    query = select(AuditItem).where(
        AuditItem.settlement_id == settlement.id, AuditItem.rule_code == rule_code
    )
    if lock:
        query = query.with_for_update()
    item = session.scalar(query)
    if item is None:
        raise NotFound(f"no audit result {rule_code} on {setl_id} of {code}")
    return item


def current_amount(item: AuditItem) -> int:
    """The deduction as it stands: final, else the latest step's amount."""
    for amount in (
        item.final_amount_fen,
        item.consultation_amount_fen,
        item.review_amount_fen,
        item.initial_amount_fen,
    ):
        if amount is not None:
            return amount
    raise AssertionError("an audit item has an initial amount")


def _step(
    session: Session,
    item: AuditItem,
    action: str,
    amount: int | None,
    note: str,
    actor: str,
    now: datetime,
) -> None:
    session.add(
        AuditStep(
            audit_item_id=item.id,
            action=action,
            amount_fen=amount,
            note=note[:300],
            at=now,
            actor=actor,
        )
    )


def record(
    session: Session,
    *,
    code: str,
    setl_id: str,
    rule_code: str,
    amount_fen: int,
    reason: str,
    actor: Principal,
    now: datetime,
) -> tuple[AuditItem, bool]:
    """An initial result; the same result again returns the first (a different one: 409)."""
    settlement = _settlement(session, code, setl_id, lock=True)
    existing = session.scalar(
        select(AuditItem).where(
            AuditItem.settlement_id == settlement.id, AuditItem.rule_code == rule_code
        )
    )
    if existing is not None:
        if (existing.initial_amount_fen, existing.reason) != (amount_fen, reason):
            raise Conflict(f"audit result {rule_code} on {setl_id} exists with other content")
        return existing, False
    if session.scalar(select(Revocation.id).where(Revocation.settlement_id == settlement.id)):
        raise Invalid.field("setl_id", "settlement_not_revoked", "the settlement is revoked")
    others = session.scalars(
        select(AuditItem).where(AuditItem.settlement_id == settlement.id).with_for_update()
    ).all()
    if sum(current_amount(o) for o in others) + amount_fen > settlement.fund_amount_fen:
        raise Invalid.field(
            "amount",
            "deduction_within_fund",
            "the settlement's deductions would exceed its fund amount",
        )
    today = business_date(now)
    fund = institutions.get_fund_ledger(session, settlement.region_code, settlement.insutype)
    policy = institutions.policy_on(session, fund.id, today)
    window = policy.appeal_window_days if policy else 5
    item = AuditItem(
        settlement_id=settlement.id,
        fixmedins_code=code,
        insutype=settlement.insutype,
        period=settlement.period,
        rule_code=rule_code,
        reason=reason,
        initial_amount_fen=amount_fen,
        result_date=today,
        appeal_deadline=rules.appeal_deadline(today, window, workdays.load(session)),
        status="INITIAL",
        created_at=now,
        created_by=actor.name,
    )
    session.add(item)
    session.flush()
    _step(session, item, "initial", amount_fen, reason, actor.name, now)
    return item, True


def record_bulk(
    session: Session, items: Sequence[Any], *, actor: Principal, now: datetime
) -> list[dict[str, object]]:
    """Initial results of a bulk import, each judged on its own (a savepoint each), in the
    caller's transaction. The settlements are locked up front in one order."""
    lock_settlements(session, [(item.fixmedins_code, item.setl_id) for item in items])
    results: list[dict[str, object]] = []
    for index, item in enumerate(items):
        try:
            with session.begin_nested():
                _, created = record(
                    session,
                    code=item.fixmedins_code,
                    setl_id=item.setl_id,
                    rule_code=item.rule_code,
                    amount_fen=item.amount,
                    reason=item.reason,
                    actor=actor,
                    now=now,
                )
            results.append(
                {"index": index, "outcome": "created" if created else "duplicate", "errors": []}
            )
        except DomainError as error:
            errors = error.errors or [FieldError("item", error.code, error.detail)]
            results.append(
                {
                    "index": index,
                    "outcome": "refused",
                    "status": error.status,
                    "errors": [e.__dict__ for e in errors],
                }
            )
    return results


def appeal(
    session: Session,
    code: str,
    setl_id: str,
    rule_code: str,
    reason: str,
    *,
    actor: Principal,
    now: datetime,
) -> AuditItem:
    """The hospital appeals (申诉) until 23:59 of the window's last day; again: unchanged."""
    if actor.is_hospital and actor.fixmedins_code != code:
        raise NotFound(f"no settlement {setl_id} of {code}")
    item = get(session, code, setl_id, rule_code, lock=True)
    if item.status == "APPEALED":
        return item
    if item.status != "INITIAL":
        raise Conflict(f"the audit result is {item.status}; only an initial result is appealed")
    if business_date(now) > item.appeal_deadline:
        raise Invalid.field(
            "appeal", "appeal_window", f"the appeal window closed on {item.appeal_deadline}"
        )
    item.status = "APPEALED"
    item.appealed_at = now
    item.appeal_reason = reason[:300]
    _step(session, item, "appeal", None, reason, actor.name, now)
    session.flush()
    return item


def review(
    session: Session,
    code: str,
    setl_id: str,
    rule_code: str,
    amount_fen: int,
    final: bool,
    *,
    actor: Principal,
    now: datetime,
) -> AuditItem:
    """Re-review (复审) of an appealed result: final, or on to consultation."""
    item = get(session, code, setl_id, rule_code, lock=True)
    if (
        item.status in ("REVIEWED", "FINAL")
        and item.review_amount_fen == amount_fen
        and (item.review_final is final)
    ):
        return item
    if item.status != "APPEALED":
        raise Conflict("a review is only possible on an appealed result")
    if amount_fen > item.initial_amount_fen:
        raise Invalid.field("amount", "amount_not_higher", "amounts only go down along the chain")
    item.review_amount_fen = amount_fen
    item.review_final = final
    item.reviewed_at = now
    item.status = "FINAL" if final else "REVIEWED"
    if final:
        item.final_amount_fen = amount_fen
        item.final_at = now
    _step(session, item, "review", amount_fen, "final" if final else "not final", actor.name, now)
    session.flush()
    return item


def consultation(
    session: Session,
    code: str,
    setl_id: str,
    rule_code: str,
    amount_fen: int,
    *,
    actor: Principal,
    now: datetime,
) -> AuditItem:
    """Consultation (合议) fixes the final amount of a review that was not final."""
    item = get(session, code, setl_id, rule_code, lock=True)
    if item.status == "FINAL" and item.consultation_amount_fen == amount_fen:
        return item
    if item.status != "REVIEWED":
        raise Conflict("consultation follows a review that was not final")
    assert item.review_amount_fen is not None
    if amount_fen > item.review_amount_fen:
        raise Invalid.field("amount", "amount_not_higher", "amounts only go down along the chain")
    item.consultation_amount_fen = amount_fen
    item.consulted_at = now
    item.final_amount_fen = amount_fen
    item.final_at = now
    item.status = "FINAL"
    _step(session, item, "consultation", amount_fen, "", actor.name, now)
    session.flush()
    return item


def finalize_unappealed(session: Session, *, today: date, now: datetime) -> int:
    """23:59: every unappealed result whose window ends today (or earlier) becomes final."""
    items = session.scalars(
        select(AuditItem)
        .where(AuditItem.status == "INITIAL", AuditItem.appeal_deadline <= today)
        .with_for_update()
    ).all()
    for item in items:
        item.status = "FINAL"
        item.final_amount_fen = item.initial_amount_fen
        item.final_at = now
        _step(
            session, item, "final", item.initial_amount_fen, "appeal window closed", "system", now
        )
    session.flush()
    return len(items)


def steps(session: Session, item: AuditItem) -> list[AuditStep]:
    return list(
        session.scalars(
            select(AuditStep).where(AuditStep.audit_item_id == item.id).order_by(AuditStep.id)
        )
    )


def list_items(
    session: Session,
    *,
    fixmedins_code: str | None,
    status: str | None,
    period: str | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[AuditItem, str]]:
    query = (
        select(AuditItem, Settlement.setl_id)
        .join(Settlement, SETTLEMENT_OF_AUDIT)
        .order_by(AuditItem.id)
        .limit(limit)
    )
    for value, column in (
        (fixmedins_code, AuditItem.fixmedins_code),
        (status, AuditItem.status),
        (period, AuditItem.period),
    ):
        if value is not None:
            query = query.where(column == value)
    if after_id is not None:
        query = query.where(AuditItem.id > after_id)
    return [(item, setl_id) for item, setl_id in session.execute(query).all()]


def count_open(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuditItem).where(AuditItem.status != "FINAL")
        )
        or 0
    )
