"""The three-flow check: the business flow (settlements in daily lines, the lines' amounts).
Moved out of app/threeflow/service.py as they were."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.daily import membership
from app.daily.models import DailyBatch, DailyLine
from app.institutions.models import FundLedger
from app.settlements.models import BatchState, Revocation, Settlement
from app.threeflow.report import Difference, Report, _between


def _settlements_in_lines(session: Session, report: Report) -> None:
    """Every accepted settlement whose batch was generated is in exactly one daily line (the
    line of its institution in the batch that holds its batch date), or was revoked before it."""
    revoked_unbatched = (
        select(Revocation.settlement_id).where(Revocation.batched.is_(False)).scalar_subquery()
    )
    generated = and_(
        BatchState.fund_ledger_id == FundLedger.id,
        BatchState.last_generated_date >= Settlement.batch_date,
    )
    lines = (
        select(func.count(DailyLine.id))
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .where(
            membership.holds(),
            DailyLine.fixmedins_code == Settlement.fixmedins_code,
        )
        .correlate(Settlement)
        .scalar_subquery()
    )
    scope = _between(Settlement.setl_date, report.date_from, report.date_to)
    rows = session.execute(
        select(
            Settlement.region_code,
            Settlement.insutype,
            Settlement.fixmedins_code,
            Settlement.setl_id,
            Settlement.batch_date,
            lines.label("lines"),
        )
        .join(
            FundLedger,
            and_(
                FundLedger.region_code == Settlement.region_code,
                FundLedger.insutype == Settlement.insutype,
            ),
        )
        .join(BatchState, generated)
        .where(scope, Settlement.id.not_in(revoked_unbatched), lines != 1)
    ).all()
    report.counts["settlements"] = (
        session.scalar(select(func.count(Settlement.id)).where(scope)) or 0
    )
    for row in rows:
        if row.lines != 1:
            report.add(
                Difference(
                    "settlement_in_line",
                    row.region_code,
                    row.insutype,
                    row.fixmedins_code,
                    f"settlement:{row.fixmedins_code}:{row.setl_id}",
                    f"in {row.lines} daily lines of batch date {row.batch_date}, not one",
                )
            )


def _line_amounts(session: Session, report: Report) -> None:
    """Every daily line's count, fund total and amount are those of its settlements."""
    revoked_unbatched = (
        select(Revocation.settlement_id).where(Revocation.batched.is_(False)).scalar_subquery()
    )
    members = (
        select(
            DailyBatch.id.label("batch_id"),
            Settlement.fixmedins_code,
            func.count(Settlement.id).label("count"),
            func.sum(Settlement.fund_amount_fen).label("fund"),
            func.sum(Settlement.daily_amount_fen).label("daily"),
        )
        .join(DailyBatch, membership.holds())
        .where(Settlement.id.not_in(revoked_unbatched))
        .group_by(DailyBatch.id, Settlement.fixmedins_code)
        .subquery()
    )
    scope = _between(DailyBatch.business_date, report.date_from, report.date_to)
    rows = session.execute(
        select(
            DailyLine.id,
            DailyBatch.region_code,
            DailyBatch.insutype,
            DailyLine.fixmedins_code,
            DailyLine.settlement_count,
            DailyLine.fund_total_fen,
            DailyLine.amount_fen,
            func.coalesce(members.c.count, 0),
            func.coalesce(members.c.fund, 0),
            func.coalesce(members.c.daily, 0),
        )
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .outerjoin(
            members,
            and_(
                members.c.batch_id == DailyLine.batch_id,
                members.c.fixmedins_code == DailyLine.fixmedins_code,
            ),
        )
        .where(
            scope,
            or_(
                DailyLine.settlement_count != func.coalesce(members.c.count, 0),
                DailyLine.fund_total_fen != func.coalesce(members.c.fund, 0),
                DailyLine.amount_fen != func.coalesce(members.c.daily, 0),
            ),
        )
    ).all()
    report.counts["daily_lines"] = (
        session.scalar(
            select(func.count(DailyLine.id))
            .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
            .where(scope)
        )
        or 0
    )
    for line_id, region, insutype, code, count, fund, amount, m_count, m_fund, m_daily in rows:
        if (count, fund, amount) != (m_count, m_fund, m_daily):
            report.add(
                Difference(
                    "line_amount",
                    region,
                    insutype,
                    code,
                    f"daily_line:{line_id}",
                    f"line says {count} settlements, fund {fund}, amount {amount} fen; its "
                    f"settlements say {m_count}, {m_fund}, {m_daily} fen",
                )
            )
