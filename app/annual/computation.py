"""Annual clearing (SPEC §5), the computation: the clearing of each institution once its
year's statements are final, and the recompute of a disputed one."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annual import rules
from app.annual.models import AnnualClearing, AnnualRule, Assessment
from app.errors import Conflict
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution
from app.monthly.models import Declaration, MonthlyStatement
from app.payables import offsets
from app.payables.machine import FINAL, DocumentStatus

FINAL_STATEMENTS = tuple(status.value for status in FINAL)
SYSTEM = "system"


def _statements_of_year(
    session: Session, code: str, insutype: str, year: int
) -> list[MonthlyStatement] | None:
    """Every statement of Y from its first declared period of Y through December, when all
    are final; None while one is missing or not final."""
    first = session.scalar(
        select(func.min(Declaration.period)).where(
            Declaration.fixmedins_code == code,
            Declaration.insutype == insutype,
            Declaration.period.between(f"{year}-01", f"{year}-12"),
        )
    )
    if first is None:
        return None
    wanted = []
    month = int(first[5:7])
    for number in range(month, 13):
        wanted.append(f"{year}-{number:02d}")
    rows = {
        s.period: s
        for s in session.scalars(
            select(MonthlyStatement).where(
                MonthlyStatement.fixmedins_code == code,
                MonthlyStatement.insutype == insutype,
                MonthlyStatement.period.in_(wanted),
            )
        )
    }
    if any(period not in rows or rows[period].status not in FINAL_STATEMENTS for period in wanted):
        return None
    return [rows[period] for period in wanted]


def compute_due(session: Session, fund: FundLedger, *, today: date, now: datetime) -> list[int]:
    """Clear every institution of the fund ledger whose year is ready (SPEC §5)."""
    created = []
    for rule in session.scalars(
        select(AnnualRule).where(AnnualRule.start_date <= today).order_by(AnnualRule.year)
    ):
        assessments = session.scalars(
            select(Assessment)
            .join(Institution, Institution.code == Assessment.fixmedins_code)
            .where(
                Assessment.year == rule.year,
                Assessment.insutype == fund.insutype,
                Institution.region_code == fund.region_code,
            )
            .order_by(Assessment.fixmedins_code)
        ).all()
        for assessment in assessments:
            exists_already = session.scalar(
                select(AnnualClearing.id).where(
                    AnnualClearing.year == rule.year,
                    AnnualClearing.fixmedins_code == assessment.fixmedins_code,
                    AnnualClearing.insutype == fund.insutype,
                )
            )
            if exists_already is not None:
                continue
            clearing = _compute(session, fund, rule, assessment, now=now, by=SYSTEM)
            if clearing is not None:
                created.append(clearing.id)
    return created


def _compute(
    session: Session,
    fund: FundLedger,
    rule: AnnualRule,
    assessment: Assessment,
    *,
    now: datetime,
    by: str,
    existing: AnnualClearing | None = None,
) -> AnnualClearing | None:
    institutions.lock_fund_ledger(session, fund.id)  # offsets: as statements and repayments
    code = assessment.fixmedins_code
    statements = _statements_of_year(session, code, fund.insutype, rule.year)
    if statements is None:
        return None
    ratio = rules.return_ratio(
        assessment.assessment_score,
        assessment.credit_score,
        [(band[0], band[1]) for band in rule.assessment_bands],
        [(band[0], band[1]) for band in rule.credit_bands],
    )
    open_receivable = offsets.open_receivables(session, fund.region_code, fund.insutype, [code])[
        code
    ]
    if existing is not None:
        open_receivable += existing.offset_fen  # its own offset is released first
    result = rules.compute(
        rules.Inputs(
            fund_pay_fen=sum(s.fund_pay_fen for s in statements),
            audit_fen=sum(s.audit_fen for s in statements),
            ratio_amount_fen=sum(s.ratio_amount_fen for s in statements),
            deposit_fen=sum(s.deposit_fen for s in statements),
            confirmed_clearing_fen=assessment.clearing_amount_fen,
            budget_fen=assessment.budget_fen,
            return_ratio_bp=ratio,
            open_receivable_fen=open_receivable,
        )
    )
    base = {
        "statements": [
            {
                "id": s.id,
                "period": s.period,
                "fund_pay": s.fund_pay_fen,
                "audit": s.audit_fen,
                "ratio_amount": s.ratio_amount_fen,
                "deposit": s.deposit_fen,
            }
            for s in statements
        ],
        "assessment": {
            "assessment_score": assessment.assessment_score,
            "credit_score": assessment.credit_score,
            "clearing_amount": assessment.clearing_amount_fen,
            "budget": assessment.budget_fen,
        },
    }
    values = {
        "approved_fund_fen": result.approved_fund_fen,
        "clearing_amount_fen": result.clearing_amount_fen,
        "settled_fen": result.settled_fen,
        "deposit_held_fen": result.deposit_held_fen,
        "return_ratio_bp": result.return_ratio_bp,
        "forfeited_fen": result.forfeited_fen,
        "gross_fen": result.gross_fen,
        "offset_fen": result.offset_fen,
        "actual_fen": result.actual_fen,
        "base": base,
        "computed_at": now,
        "computed_by": by,
        "status": DocumentStatus.COMPUTED.value,
    }
    if existing is not None:
        for key, value in values.items():
            setattr(existing, key, value)
        existing.version += 1
        existing.confirmed_at = existing.confirmed_by = existing.disputed_at = None
        session.flush()
        return existing
    clearing = AnnualClearing(
        year=rule.year,
        region_code=fund.region_code,
        insutype=fund.insutype,
        fixmedins_code=code,
        version=1,
        **values,
    )
    session.add(clearing)
    session.flush()
    return clearing


def recompute(session: Session, clearing: AnnualClearing, now: datetime, by: str) -> None:
    """Compute a disputed clearing afresh (its own offset released first); refused when the
    year's statements are no longer all final. The caller holds the fund ledger's lock."""
    fund = institutions.get_fund_ledger(session, clearing.region_code, clearing.insutype)
    rule = session.get(AnnualRule, clearing.year)
    assessment = session.scalar(
        select(Assessment).where(
            Assessment.year == clearing.year,
            Assessment.fixmedins_code == clearing.fixmedins_code,
            Assessment.insutype == clearing.insutype,
        )
    )
    assert rule is not None and assessment is not None
    result = _compute(session, fund, rule, assessment, now=now, by=by, existing=clearing)
    if result is None:
        raise Conflict("the year's statements are no longer all final")
