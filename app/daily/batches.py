"""Reading daily batches (SPEC §3.3): a batch, its lines, its member settlements, who made
it and who approved it, and a line's payment status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.daily import rules
from app.daily.models import DailyApproval, DailyBatch, DailyLine
from app.errors import NotFound
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.settlements.models import Revocation, Settlement


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


def members(batch: DailyBatch) -> Any:
    """WHERE condition on Settlement: the batch's member settlements (SPEC §3.3: accepted,
    not revoked before batching, batch date in the batch's range)."""
    return and_(
        in_range(batch),
        ~exists().where(Revocation.settlement_id == Settlement.id, Revocation.batched.is_(False)),
    )


def in_range(batch: DailyBatch) -> Any:
    condition = and_(
        Settlement.region_code == batch.region_code,
        Settlement.insutype == batch.insutype,
        Settlement.batch_date <= batch.business_date,
    )
    if batch.first_batch_date is not None:
        condition = and_(condition, Settlement.batch_date >= batch.first_batch_date)
    return condition


def get_line(session: Session, batch_id: int, code: str) -> DailyLine:
    line = session.scalar(
        select(DailyLine).where(DailyLine.batch_id == batch_id, DailyLine.fixmedins_code == code)
    )
    if line is None:
        raise NotFound(f"no line of {code} in daily batch {batch_id}")
    return line


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


def approvers_of(session: Session, batches: Sequence[DailyBatch]) -> dict[int, list[str]]:
    """The approvers of each batch's current push round, for a page of batches in one query."""
    rounds = {batch.id: batch.push_round for batch in batches}
    result: dict[int, list[str]] = {batch_id: [] for batch_id in rounds}
    if not rounds:
        return result
    rows = session.execute(
        select(DailyApproval.batch_id, DailyApproval.push_round, DailyApproval.approver)
        .where(DailyApproval.batch_id.in_(list(rounds)))
        .order_by(DailyApproval.id)
    )
    for batch_id, push_round, approver in rows:
        if rounds[batch_id] == push_round:
            result[batch_id].append(approver)
    return result


def line_status(line: DailyLine, instruction_status: str | None) -> rules.LineStatus:
    """SCENARIOS.md: PAID, FAILED, RETURNED, PENDING (sent, no final result) or NOT_SENT."""
    return rules.line_status(instruction_status)


def list_batches(
    session: Session,
    *,
    region_code: str | None,
    insutype: str | None,
    status: rules.BatchStatus | None,
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
