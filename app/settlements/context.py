"""The institutions' contexts of a settlement intake and the locks of the period and batch
states (moved out of app/settlements/service.py as they were)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.institutions import service as institutions
from app.institutions.models import Enrollment, FundLedger, Institution, Region
from app.institutions.rules import Policy
from app.settlements.models import BatchState, PeriodState
from app.settlements.rules import InstitutionContext

IN_CHUNK = 900


def load_contexts(session: Session, codes: Iterable[str]) -> dict[str, InstitutionContext]:
    """Institutions with their region, enrollments and fund ledger policies (4 queries)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(
        select(Institution, Region)
        .join(Region, Region.code == Institution.region_code)
        .where(Institution.code.in_(wanted))
    ).all()
    spans: dict[str, dict[str, list[tuple[date, date | None]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for enrollment in session.scalars(
        select(Enrollment).where(Enrollment.fixmedins_code.in_(wanted))
    ):
        spans[enrollment.fixmedins_code][enrollment.insutype].append(
            (enrollment.start_date, enrollment.end_date)
        )
    regions = {region.code for _, region in rows}
    policies: dict[tuple[str, str], tuple[Policy, ...]] = {}
    fund_ids: dict[tuple[str, str], int] = {}
    for fund in session.scalars(select(FundLedger).where(FundLedger.region_code.in_(regions))):
        policies[(fund.region_code, fund.insutype)] = tuple(institutions.policies(session, fund.id))
        fund_ids[(fund.region_code, fund.insutype)] = fund.id
    contexts = {}
    for institution, region in rows:
        contexts[institution.code] = InstitutionContext(
            code=institution.code,
            level=institution.level,
            region_code=region.code,
            division_prefixes=tuple(region.division_prefixes),
            med_type_prefixes=tuple(institution.med_type_prefixes),
            enrollments={k: tuple(v) for k, v in spans[institution.code].items()},
            policies={
                insutype: policies.get((region.code, insutype), ()) for insutype in ("310", "390")
            },
            fund_ids={
                insutype: fund_ids[(region.code, insutype)]
                for insutype in ("310", "390")
                if (region.code, insutype) in fund_ids
            },
        )
    return contexts


# --- periods ---------------------------------------------------------------------------------


def lock_period_states(
    session: Session, pairs: Iterable[tuple[str, str]], *, exclusive: bool = False
) -> dict[tuple[str, str], str | None]:
    """Declared-through period per (institution, insutype), locked for this transaction:
    shared for uploads and revocations, exclusive for declarations."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    statement = dialect_insert(session, PeriodState.__table__)
    session.execute(
        statement.on_conflict_do_nothing(),
        [{"fixmedins_code": c, "insutype": t, "declared_through": None} for c, t in wanted],
    )
    states: dict[tuple[str, str], str | None] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        query = (
            select(PeriodState)
            .where(tuple_(PeriodState.fixmedins_code, PeriodState.insutype).in_(chunk))
            .order_by(PeriodState.fixmedins_code, PeriodState.insutype)
            .with_for_update(read=not exclusive)
            .execution_options(populate_existing=True)
        )
        for state in session.scalars(query):
            states[(state.fixmedins_code, state.insutype)] = state.declared_through
    return states


def lock_batch_states(
    session: Session, fund_ids: Iterable[int], *, exclusive: bool = False
) -> dict[int, date | None]:
    """Last generated batch date per fund ledger, locked for this transaction: shared for
    uploads and revocations, exclusive for batch generation."""
    wanted = sorted(set(fund_ids))
    if not wanted:
        return {}
    statement = dialect_insert(session, BatchState.__table__)
    session.execute(
        statement.on_conflict_do_nothing(),
        [{"fund_ledger_id": fund_id, "last_generated_date": None} for fund_id in wanted],
    )
    rows = session.execute(
        select(BatchState.fund_ledger_id, BatchState.last_generated_date)
        .where(BatchState.fund_ledger_id.in_(wanted))
        .order_by(BatchState.fund_ledger_id)
        .with_for_update(read=not exclusive)
    ).all()
    return {fund_id: last for fund_id, last in rows}
