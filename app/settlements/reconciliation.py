"""Settlement reconciliation (对账): the held totals, a hospital's reconciliation of a day,
the days' statuses (moved out of app/settlements/service.py as they were; set-based like the
rest)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import business_date
from app.errors import Invalid, NotFound
from app.institutions.models import Institution
from app.settlements import rules
from app.settlements.models import Reconciliation, Revocation, Settlement
from app.settlements.schemas import ReconciliationIn

RECONCILE_IDS_REPORTED_MAX = 1000


def held_totals(
    session: Session, code: str, insutype: str, first: date, last: date
) -> dict[date, rules.DayTotals]:
    """Held totals of every day in [first, last] with activity (SPEC §3.2)."""
    settled = session.execute(
        select(
            Settlement.setl_date,
            func.count(),
            func.coalesce(func.sum(Settlement.fund_amount_fen), 0),
        )
        .where(
            Settlement.fixmedins_code == code,
            Settlement.insutype == insutype,
            Settlement.setl_date.between(first, last),
        )
        .group_by(Settlement.setl_date)
    ).all()
    revoked = session.execute(
        select(
            Revocation.revoked_date,
            func.count(),
            func.coalesce(func.sum(Settlement.fund_amount_fen), 0),
        )
        .join(Settlement, Settlement.id == Revocation.settlement_id)
        .where(
            Revocation.fixmedins_code == code,
            Revocation.insutype == insutype,
            Revocation.revoked_date.between(first, last),
        )
        .group_by(Revocation.revoked_date)
    ).all()
    return rules.held_totals(
        [(d, int(c), int(f)) for d, c, f in settled], [(d, int(c), int(f)) for d, c, f in revoked]
    )


def reconcile(
    session: Session, data: ReconciliationIn, *, actor: Principal, now: datetime
) -> Reconciliation:
    """Compare the hospital's totals of a day with the held totals; store the result."""
    if actor.is_hospital and actor.fixmedins_code != data.fixmedins_code:
        raise NotFound(f"no institution {data.fixmedins_code!r}")
    if session.get(Institution, data.fixmedins_code) is None:
        raise NotFound(f"no institution {data.fixmedins_code!r}")
    if data.setl_date > business_date(now):
        raise Invalid.field("setl_date", "not_in_future", "a day is reconciled once it has begun")
    held = held_totals(session, data.fixmedins_code, data.insutype, data.setl_date, data.setl_date)
    totals = held.get(data.setl_date, rules.DayTotals(0, 0))
    differences: list[dict[str, str]] = []
    if data.setl_ids is not None:
        held_ids = set(
            session.scalars(
                select(Settlement.setl_id)
                .outerjoin(Revocation, Revocation.settlement_id == Settlement.id)
                .where(
                    Settlement.fixmedins_code == data.fixmedins_code,
                    Settlement.insutype == data.insutype,
                    Settlement.setl_date == data.setl_date,
                    # Held on that day: a revocation on a later day counts on its own day
                    # (as the held totals do), so it does not leave this day's list.
                    Revocation.id.is_(None) | (Revocation.revoked_date > data.setl_date),
                )
            )
        )
        sent = set(data.setl_ids)
        differences = [{"setl_id": i, "issue": "not_held"} for i in sorted(sent - held_ids)]
        differences += [{"setl_id": i, "issue": "not_sent"} for i in sorted(held_ids - sent)]
        differences = differences[:RECONCILE_IDS_REPORTED_MAX]
    matches = (data.count, data.fund_amount) == (totals.count, totals.fund_fen)
    row = Reconciliation(
        fixmedins_code=data.fixmedins_code,
        insutype=data.insutype,
        setl_date=data.setl_date,
        submitted_count=data.count,
        submitted_fund_fen=data.fund_amount,
        held_count=totals.count,
        held_fund_fen=totals.fund_fen,
        status=rules.reconciliation_status(matches, differences),
        differences=differences,
        submitted_at=now,
        submitted_by=actor.name,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class DayStatus:
    day: date
    held: rules.DayTotals
    status: rules.DayReconciliation


def day_statuses(
    session: Session, code: str, insutype: str, first: date, last: date
) -> list[DayStatus]:
    """Every day with activity in [first, last] and whether it is reconciled *now*: its latest
    reconciliation matched totals equal to the current held totals (SPEC §3.2)."""
    held = held_totals(session, code, insutype, first, last)
    latest_ids = (
        select(func.max(Reconciliation.id))
        .where(
            Reconciliation.fixmedins_code == code,
            Reconciliation.insutype == insutype,
            Reconciliation.setl_date.between(first, last),
        )
        .group_by(Reconciliation.setl_date)
    )
    latest = {
        row.setl_date: row
        for row in session.scalars(select(Reconciliation).where(Reconciliation.id.in_(latest_ids)))
    }
    result = []
    for day in sorted(set(held) | set(latest)):
        totals = held.get(day, rules.DayTotals(0, 0))
        row = latest.get(day)
        if row is None:
            status = (
                rules.DayReconciliation.RECONCILED
                if totals == rules.DayTotals(0, 0)
                else rules.DayReconciliation.UNRECONCILED
            )
        elif (row.held_count, row.held_fund_fen) != (totals.count, totals.fund_fen):
            # the held totals changed after it was reconciled
            status = rules.DayReconciliation.UNRECONCILED
        else:
            status = rules.DayReconciliation(row.status)
        if status == rules.DayReconciliation.RECONCILED and row is None:
            continue  # a day without activity counts as reconciled; not listed
        result.append(DayStatus(day, totals, status))
    return result


def unreconciled_days(
    session: Session, code: str, insutype: str, days: Iterable[date]
) -> list[date]:
    """Days (of those given) that are not reconciled now."""
    wanted = sorted(set(days))
    if not wanted:
        return []
    statuses = day_statuses(session, code, insutype, wanted[0], wanted[-1])
    wanted_set = set(wanted)
    return [
        s.day
        for s in statuses
        if s.day in wanted_set and s.status != rules.DayReconciliation.RECONCILED
    ]
