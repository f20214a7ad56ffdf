"""Daily T+1 disbursement (SPEC §3.3–3.6): batch generation (set-based SQL), push, approval
(maker–checker), hold-back, re-push and the hand-over of approved lines to the bank outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.bank import rules as bank_rules
from app.bank import service as bank
from app.daily import rules
from app.daily.models import DailyApproval, DailyBatch, DailyLine
from app.errors import Conflict, Forbidden, NotFound
from app.institutions import rules as institution_rules
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.ledger import service as ledger
from app.ledger.rules import Draft, DraftLines, account_code
from app.settlements import service as settlements
from app.settlements.models import BatchState, Revocation, Settlement
from app.trail import service as trail
from app.workdays.rules import WorkCalendar

SYSTEM_ACTOR = "system"


def get_batch(session: Session, batch_id: int, *, lock: bool = False) -> DailyBatch:
    """The batch; `lock` holds its row until commit (every change of state does, so two
    accountants acting at once are applied one after the other)."""
    batch = session.get(DailyBatch, batch_id, with_for_update=lock, populate_existing=lock)
    if batch is None:
        raise NotFound(f"no daily batch {batch_id}")
    return batch


def find_batch(session: Session, fund_ledger_id: int, day: date) -> DailyBatch | None:
    return session.scalar(
        select(DailyBatch).where(
            DailyBatch.fund_ledger_id == fund_ledger_id, DailyBatch.business_date == day
        )
    )


def generate(
    session: Session,
    fund: FundLedger,
    day: date,
    *,
    now: datetime,
    calendar: WorkCalendar,
) -> DailyBatch | None:
    """Build the batch of business date `day` for a fund ledger (SPEC §3.3): one aggregate
    INSERT … SELECT … GROUP BY over its member settlements. Running twice creates nothing
    new; None when the fund ledger is not switched on by that date."""
    existing = find_batch(session, fund.id, day)
    if existing is not None:
        return existing
    versions = [v for v in institutions.policies(session, fund.id) if v.effective_from <= day]
    if not versions:
        return None
    last = settlements.lock_batch_states(session, [fund.id], exclusive=True)[fund.id]
    existing = find_batch(session, fund.id, day)  # generated while we waited for the lock
    if existing is not None:
        return existing
    if last is not None and last > day:
        raise Conflict(
            f"the batch of {last} is generated; batches are generated in date order, "
            f"so {day}'s settlements are in later batches"
        )
    batch = DailyBatch(
        fund_ledger_id=fund.id,
        region_code=fund.region_code,
        insutype=fund.insutype,
        business_date=day,
        first_batch_date=None if last is None else last + timedelta(days=1),
        pay_date=rules.pay_date(calendar, day),
        status="PUSHED",
        generated_at=now,
        pushed_at=now,
        pushed_by=SYSTEM_ACTOR,
        push_round=1,
        approvals_required=1,
    )
    session.add(batch)
    session.flush()
    _insert_lines(session, batch)
    session.execute(
        update(BatchState)
        .where(BatchState.fund_ledger_id == fund.id)
        .values(last_generated_date=day)
    )
    reversed_by_institution = _take_revocations(session, batch)
    _totals(session, batch, versions)
    _post_generation(session, batch, reversed_by_institution, now)
    return batch


def members(batch: DailyBatch) -> Any:
    """WHERE condition on Settlement: the batch's member settlements (SPEC §3.3: accepted,
    not revoked before batching, batch date in the batch's range)."""
    return and_(
        _in_range(batch),
        ~exists().where(Revocation.settlement_id == Settlement.id, Revocation.batched.is_(False)),
    )


def _in_range(batch: DailyBatch) -> Any:
    condition = and_(
        Settlement.region_code == batch.region_code,
        Settlement.insutype == batch.insutype,
        Settlement.batch_date <= batch.business_date,
    )
    if batch.first_batch_date is not None:
        condition = and_(condition, Settlement.batch_date >= batch.first_batch_date)
    return condition


def _insert_lines(session: Session, batch: DailyBatch) -> None:
    """Lines = aggregate of every settlement in the batch's range, less the aggregate of
    those revoked before batching (few): the big scan is a plain GROUP BY, no anti-join."""
    day = batch.business_date
    late = func.sum(case((Settlement.setl_date < day, 1), else_=0))
    everything = (
        select(
            Settlement.fixmedins_code.label("code"),
            func.count().label("n"),
            func.sum(Settlement.fund_amount_fen).label("fund"),
            func.sum(Settlement.daily_amount_fen).label("daily"),
            late.label("late"),
        )
        .where(_in_range(batch))
        .group_by(Settlement.fixmedins_code)
        .subquery()
    )
    revoked = (
        select(
            Settlement.fixmedins_code.label("code"),
            func.count().label("n"),
            func.sum(Settlement.fund_amount_fen).label("fund"),
            func.sum(Settlement.daily_amount_fen).label("daily"),
            late.label("late"),
        )
        .join(Revocation, Revocation.settlement_id == Settlement.id)
        .where(_in_range(batch), Revocation.batched.is_(False))
        .group_by(Settlement.fixmedins_code)
        .subquery()
    )
    count = everything.c.n - func.coalesce(revoked.c.n, 0)
    lines = (
        select(
            literal(batch.id, BigInteger),
            everything.c.code,
            count,
            everything.c.fund - func.coalesce(revoked.c.fund, 0),
            everything.c.daily - func.coalesce(revoked.c.daily, 0),
            everything.c.late - func.coalesce(revoked.c.late, 0) > 0,
            literal(False, Boolean),
        )
        .select_from(everything.outerjoin(revoked, revoked.c.code == everything.c.code))
        .where(count > 0)
    )
    session.execute(
        insert(DailyLine).from_select(
            [
                "batch_id",
                "fixmedins_code",
                "settlement_count",
                "fund_total_fen",
                "amount_fen",
                "late",
                "held",
            ],
            lines,
        )
    )


def _take_revocations(session: Session, batch: DailyBatch) -> dict[str, int]:
    """Revocations of settlements batched earlier, not yet reversed: this batch posts their
    reversal. Returns fund amounts per institution."""
    in_fund = exists().where(
        Settlement.id == Revocation.settlement_id, Settlement.region_code == batch.region_code
    )
    taken = session.execute(
        update(Revocation)
        .where(
            Revocation.batched.is_(True),
            Revocation.reversal_batch_id.is_(None),
            Revocation.insutype == batch.insutype,
            in_fund,
        )
        .values(reversal_batch_id=batch.id)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return {}
    rows = session.execute(
        select(Revocation.fixmedins_code, func.sum(Settlement.fund_amount_fen))
        .join(Settlement, Settlement.id == Revocation.settlement_id)
        .where(Revocation.reversal_batch_id == batch.id)
        .group_by(Revocation.fixmedins_code)
    ).all()
    return {code: int(amount) for code, amount in rows}


def _totals(session: Session, batch: DailyBatch, versions: list[institution_rules.Policy]) -> None:
    line_sums = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(DailyLine.settlement_count), 0),
            func.coalesce(func.sum(DailyLine.amount_fen), 0),
            func.coalesce(func.sum(DailyLine.fund_total_fen), 0),
        ).where(DailyLine.batch_id == batch.id)
    ).one()
    batch.line_count = int(line_sums[0])
    batch.settlement_count = int(line_sums[1])
    batch.amount_fen = int(line_sums[2])
    batch.fund_total_fen = int(line_sums[3])
    policy = versions[-1]
    batch.approvals_required = rules.approvals_required(
        batch.amount_fen, policy.approval_threshold_fen
    )
    if batch.line_count == 0:
        batch.status = "EMPTY"
    session.flush()


def check_line_totals(session: Session, batch: DailyBatch) -> None:
    """Invariant (asserted in tests and by verification): every line total is the exact sum
    of its details' daily amounts."""
    details = dict(
        session.execute(
            select(Settlement.fixmedins_code, func.sum(Settlement.daily_amount_fen))
            .where(members(batch))
            .group_by(Settlement.fixmedins_code)
        ).all()
    )
    lines = dict(
        session.execute(
            select(DailyLine.fixmedins_code, DailyLine.amount_fen).where(
                DailyLine.batch_id == batch.id
            )
        ).all()
    )
    assert lines == {code: int(total) for code, total in details.items()}, "line = Σ details"


def _post_generation(
    session: Session, batch: DailyBatch, reversed_by_institution: dict[str, int], now: datetime
) -> None:
    """SPEC §6: each line accrues expense/payable of its fund amounts; settlements revoked
    after batching since the last batch reverse it."""
    if batch.line_count == 0 and not reversed_by_institution:
        return
    drafts = []
    prefix = f"daily:{batch.region_code}:{batch.insutype}:{batch.business_date}"
    lines = session.execute(
        select(DailyLine.id, DailyLine.fixmedins_code, DailyLine.fund_total_fen).where(
            DailyLine.batch_id == batch.id
        )
    ).all()
    for line_id, code, fund_total in lines:
        drafts.append(
            _draft(
                batch,
                code,
                f"{prefix}:{code}:accrual",
                "daily_accrual",
                fund_total,
                f"daily_line:{line_id}",
                now,
            )
        )
    for code, amount in sorted(reversed_by_institution.items()):
        drafts.append(
            _draft(
                batch,
                code,
                f"{prefix}:{code}:revoked",
                "daily_revocation",
                -amount,
                f"daily_batch:{batch.id}:revocations",
                now,
            )
        )
    ledger.post_many(session, [d for d in drafts if d is not None], now=now)


def _draft(
    batch: DailyBatch, code: str, key: str, kind: str, amount_fen: int, ref: str, now: datetime
) -> Draft | None:
    lines = (
        DraftLines()
        .transfer(
            account_code("expense", batch.region_code, batch.insutype, code),
            account_code("payable", batch.region_code, batch.insutype, code),
            amount_fen,
        )
        .result()
    )
    if not lines:
        return None
    return Draft(
        kind=kind,
        key=key,
        region_code=batch.region_code,
        insutype=batch.insutype,
        fixmedins_code=code,
        lines=lines,
        effective_at=now,
        business_ref=ref,
    )


# --- finance side: approval, rejection, hold-back, re-push ----------------------------------


MAKER_CHECKER = "nobody approves what they pushed or changed (maker–checker)"


def makers(session: Session, batch_ids: Sequence[int]) -> dict[int, set[str]]:
    """Who made each batch (maker–checker): whoever pushed it or held back one of its
    lines; one query for any number of batches."""
    found: dict[int, set[str]] = {batch_id: set() for batch_id in batch_ids}
    if not found:
        return found
    ids = list(found)
    rows = session.execute(
        select(DailyBatch.id, DailyBatch.pushed_by)
        .where(DailyBatch.id.in_(ids))
        .union_all(
            select(DailyLine.batch_id, DailyLine.held_by).where(
                DailyLine.batch_id.in_(ids), DailyLine.held_by.is_not(None)
            )
        )
    )
    for batch_id, name in rows:
        found[batch_id].add(name)
    return found


def approval_refusal(batch_makers: set[str], actor: Principal) -> str | None:
    """Why `actor` may not approve a batch these people made (maker–checker), or None.
    approve() refuses with it; the console asks it to say why before anyone clicks."""
    return MAKER_CHECKER if actor.name in batch_makers else None


def approvals(session: Session, batch: DailyBatch) -> list[DailyApproval]:
    return list(
        session.scalars(
            select(DailyApproval)
            .where(DailyApproval.batch_id == batch.id, DailyApproval.push_round == batch.push_round)
            .order_by(DailyApproval.id)
        )
    )


def approve(session: Session, batch_id: int, *, actor: Principal, now: datetime) -> DailyBatch:
    """Approve (maker–checker; a second, different accountant above the threshold).
    Approving again what one already approved returns the batch unchanged."""
    batch = get_batch(session, batch_id, lock=True)
    current = approvals(session, batch)
    if any(a.approver == actor.name for a in current) and batch.status in (
        "PUSHED",
        "APPROVED",
        "SUBMITTED",
    ):
        return batch
    if batch.status != "PUSHED":
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
        batch.status = "APPROVED"
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="daily_batch.approve",
        entity="daily_batch",
        key=str(batch.id),
        before={"status": "PUSHED"},
        after={"status": batch.status},
        now=now,
    )
    return batch


def reject(
    session: Session, batch_id: int, reason: str, *, actor: Principal, now: datetime
) -> DailyBatch:
    batch = get_batch(session, batch_id, lock=True)
    if batch.status == "REJECTED" and batch.rejected_reason == reason:
        return batch
    if batch.status != "PUSHED":
        raise Conflict(f"daily batch {batch_id} is {batch.status}, not awaiting approval")
    batch.status = "REJECTED"
    batch.rejected_reason = reason
    batch.rejected_by = actor.name
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="daily_batch.reject",
        entity="daily_batch",
        key=str(batch.id),
        before={"status": "PUSHED"},
        after={"status": "REJECTED", "reason": reason},
        now=now,
    )
    return batch


def hold_line(
    session: Session, batch_id: int, code: str, held: bool, *, actor: Principal, now: datetime
) -> DailyLine:
    """Hold back (or release) one line of a rejected batch: its settlements then wait for the
    monthly settlement."""
    batch = get_batch(session, batch_id, lock=True)
    if batch.status != "REJECTED":
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
    if batch.status != "REJECTED":
        raise Conflict(
            f"daily batch {batch_id} is {batch.status}; only a rejected batch is pushed again"
        )
    batch.status = "PUSHED"
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
        before={"status": "REJECTED"},
        after={"status": "PUSHED", "round": batch.push_round},
        now=now,
    )
    return batch


def get_line(session: Session, batch_id: int, code: str) -> DailyLine:
    line = session.scalar(
        select(DailyLine).where(DailyLine.batch_id == batch_id, DailyLine.fixmedins_code == code)
    )
    if line is None:
        raise NotFound(f"no line of {code} in daily batch {batch_id}")
    return line


# --- submission -------------------------------------------------------------------------------


def submit_due(session: Session, fund: FundLedger, *, today: date, now: datetime) -> list[str]:
    """Hand every approved batch with pay_date ≤ today to the bank outbox: one instruction per
    non-zero line not held back or withdrawn. Returns the new instruction ids. Under the
    fund ledger's lock: the monthly computation withdraws unsent lines under the same one."""
    institutions.lock_fund_ledger(session, fund.id)
    batches = list(
        session.scalars(
            select(DailyBatch)
            .where(
                DailyBatch.fund_ledger_id == fund.id,
                DailyBatch.status == "APPROVED",
                DailyBatch.pay_date <= today,
            )
            .order_by(DailyBatch.business_date)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    items: list[bank.NewInstruction] = []
    assignments: list[dict[str, Any]] = []
    for batch in batches:
        splits = period_splits(session, batch)
        lines = session.execute(
            select(DailyLine.id, DailyLine.fixmedins_code, DailyLine.amount_fen).where(
                DailyLine.batch_id == batch.id,
                DailyLine.held.is_(False),
                DailyLine.withdrawn_at.is_(None),
                DailyLine.instruction_id.is_(None),
                DailyLine.amount_fen > 0,
            )
        ).all()
        for line_id, code, amount in lines:
            instruction_id = bank_rules.daily_instruction_id(
                batch.business_date, batch.region_code, batch.insutype, code
            )
            items.append(
                bank.NewInstruction(
                    instruction_id=instruction_id,
                    kind="daily",
                    fixmedins_code=code,
                    amount_fen=int(amount),
                    purpose=f"医保基金日拨付 {batch.business_date}",
                    source_kind="daily_line",
                    source_id=line_id,
                    period_split=splits.get(code, []),
                )
            )
            assignments.append({"line_id": line_id, "instruction_id": instruction_id})
        batch.status = "SUBMITTED"
        batch.submitted_at = now
    bank.create_instructions(session, fund, items, requested_date=today, now=now)
    for assignment in assignments:
        session.execute(
            update(DailyLine)
            .where(DailyLine.id == assignment["line_id"])
            .values(instruction_id=assignment["instruction_id"])
        )
    session.flush()
    return [item.instruction_id for item in items]


# --- reading ----------------------------------------------------------------------------------


def line_status(line: DailyLine, instruction_status: str | None) -> str:
    """SCENARIOS.md: PAID, FAILED, RETURNED, PENDING (sent, no final result) or NOT_SENT."""
    if instruction_status is None:
        return "NOT_SENT"
    return {
        "SUCCESS": "PAID",
        "FAILED": "FAILED",
        "RETURNED": "RETURNED",
    }.get(instruction_status, "PENDING")


def list_batches(
    session: Session,
    *,
    region_code: str | None,
    insutype: str | None,
    status: str | None,
    business_date: date | None,
    after_id: int | None,
    limit: int,
) -> list[DailyBatch]:
    query = select(DailyBatch).order_by(DailyBatch.id).limit(limit)
    for value, column in (
        (region_code, DailyBatch.region_code),
        (insutype, DailyBatch.insutype),
        (status, DailyBatch.status),
        (business_date, DailyBatch.business_date),
    ):
        if value is not None:
            query = query.where(column == value)
    if after_id is not None:
        query = query.where(DailyBatch.id > after_id)
    return list(session.scalars(query))


def lines_of(session: Session, batch_ids: list[int], code: str | None = None) -> list[DailyLine]:
    if not batch_ids:
        return []
    query = (
        select(DailyLine)
        .where(DailyLine.batch_id.in_(batch_ids))
        .order_by(DailyLine.batch_id, DailyLine.fixmedins_code)
    )
    if code is not None:
        query = query.where(DailyLine.fixmedins_code == code)
    return list(session.scalars(query))


def details_of(session: Session, batch: DailyBatch, code: str) -> list[Settlement]:
    """A line's details (明细): the batch's member settlements of that institution. Members
    revoked after batching stay in it (a batch never changes)."""
    return list(
        session.scalars(
            select(Settlement)
            .where(members(batch), Settlement.fixmedins_code == code)
            .order_by(Settlement.id)
        )
    )


def fund_ledgers_switched_on(session: Session, day: date) -> list[FundLedger]:
    """Fund ledgers with a policy version effective on or before `day`."""
    return [
        fund
        for fund in institutions.list_fund_ledgers(session)
        if any(v.effective_from <= day for v in institutions.policies(session, fund.id))
    ]


def period_splits(session: Session, batch: DailyBatch) -> dict[str, list[tuple[str | None, int]]]:
    """Each institution's daily amount in `batch` split by the periods of its settlements
    (saved on its payment instruction: a returned payment is owed again per period)."""
    rows = session.execute(
        select(Settlement.fixmedins_code, Settlement.period, func.sum(Settlement.daily_amount_fen))
        .where(members(batch))
        .group_by(Settlement.fixmedins_code, Settlement.period)
        .order_by(Settlement.fixmedins_code, Settlement.period)
    ).all()
    splits: dict[str, list[tuple[str | None, int]]] = {}
    for code, period, amount in rows:
        splits.setdefault(code, []).append((period, int(amount)))
    return splits


def compile_month_summary(session: Session, month: str, *, now: datetime) -> int:
    """SPEC §3.8: last month's successful daily payments by payment date, per institution and
    insurance type (a report for the business side); compiling again replaces it."""
    from app.bank.models import PaymentInstruction
    from app.clock import period_end, period_start
    from app.daily.models import DailyPaymentSummary

    session.execute(delete(DailyPaymentSummary).where(DailyPaymentSummary.month == month))
    rows = session.execute(
        select(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.requested_date,
            func.count(),
            func.sum(PaymentInstruction.amount_fen),
        )
        .where(
            PaymentInstruction.kind == "daily",
            PaymentInstruction.status == "SUCCESS",
            PaymentInstruction.requested_date.between(period_start(month), period_end(month)),
        )
        .group_by(
            PaymentInstruction.region_code,
            PaymentInstruction.insutype,
            PaymentInstruction.fixmedins_code,
            PaymentInstruction.requested_date,
        )
    ).all()
    for region, insutype, code, pay_date, count, amount in rows:
        session.add(
            DailyPaymentSummary(
                month=month,
                region_code=region,
                insutype=insutype,
                fixmedins_code=code,
                pay_date=pay_date,
                payments=int(count),
                amount_fen=int(amount),
                compiled_at=now,
            )
        )
    session.flush()
    return len(rows)


def month_summary(session: Session, month: str) -> list[Any]:
    from app.daily.models import DailyPaymentSummary

    return list(
        session.scalars(
            select(DailyPaymentSummary)
            .where(DailyPaymentSummary.month == month)
            .order_by(
                DailyPaymentSummary.region_code,
                DailyPaymentSummary.insutype,
                DailyPaymentSummary.fixmedins_code,
                DailyPaymentSummary.pay_date,
            )
        )
    )
