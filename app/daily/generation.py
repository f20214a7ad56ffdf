"""Generation of the daily batch of a business date (SPEC §3.3): set-based SQL over the
member settlements, the reversal of revocations and the accrual postings (SPEC §6)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, Boolean, case, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.daily import rules
from app.daily.batches import find_batch, in_range, members
from app.daily.models import DailyBatch, DailyLine
from app.daily.rules import BATCH, BatchStatus
from app.errors import Conflict
from app.institutions import rules as institution_rules
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.ledger import entries
from app.ledger import service as ledger
from app.settlements import service as settlements
from app.settlements.models import BatchState, Revocation, Settlement
from app.workdays.rules import WorkCalendar

SYSTEM_ACTOR = "system"


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
        status=rules.BATCH_START,
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
        .where(in_range(batch))
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
        .where(in_range(batch), Revocation.batched.is_(False))
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
        BATCH.check(batch.status, BatchStatus.EMPTY)
        batch.status = BatchStatus.EMPTY
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
    with ledger.paused_gc():  # 10,000 drafts: no full collections while they are built
        drafts = []
        # Core rows, not ORM ones (10,000 lines: the ORM's result costs ~10 µs a row).
        lines = (
            session.connection()
            .execute(
                select(DailyLine.id, DailyLine.fixmedins_code, DailyLine.fund_total_fen).where(
                    DailyLine.batch_id == batch.id
                )
            )
            .all()
        )
        for line_id, code, fund_total in lines:
            drafts.append(
                entries.daily_accrual(
                    region_code=batch.region_code,
                    insutype=batch.insutype,
                    business_date=batch.business_date,
                    fixmedins_code=code,
                    line_id=line_id,
                    fund_total_fen=fund_total,
                    effective_at=now,
                )
            )
        for code, amount in sorted(reversed_by_institution.items()):
            drafts.append(
                entries.daily_revocation(
                    region_code=batch.region_code,
                    insutype=batch.insutype,
                    business_date=batch.business_date,
                    fixmedins_code=code,
                    batch_id=batch.id,
                    revoked_fen=amount,
                    effective_at=now,
                )
            )
        ledger.post_many(session, [d for d in drafts if d is not None], now=now)
