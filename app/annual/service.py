"""Annual clearing (SPEC §5): rules, assessments, the clearing's payable-document flow
(confirm, dispute, recompute, approve, payment: `app.payables`) with its adapter and its
posting at approval (SPEC §6), the deadline alerts and the list. The computation is in
`computation`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.annual import computation
from app.annual.models import AnnualClearing, AnnualRule, Assessment
from app.annual.schemas import AssessmentIn, RulesIn
from app.auth.principal import Principal
from app.bank import rules as bank_rules
from app.errors import Conflict, Invalid
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.ledger import entries
from app.ledger import service as ledger
from app.money import bp_str, yuan
from app.monthly.models import Declaration
from app.payables import service as payables
from app.payables.machine import DONE, DocumentStatus
from app.trail import service as trail

DONE_STATUSES = tuple(status.value for status in DONE)


def score_hundredths(value: Decimal | int) -> int:
    return int(Decimal(value) * 100)


# --- rules and assessments --------------------------------------------------------------------


def set_rules(
    session: Session, rules: RulesIn, *, actor: Principal, now: datetime
) -> tuple[AnnualRule, bool]:
    """A year's score bands, clearing start and deadline; the same again returns it (False),
    a change is refused once the year has clearings."""
    year = rules.year
    assessment_bands = [(band.min_score, band.return_ratio) for band in rules.assessment_bands]
    credit_bands = [(band.min_score, band.return_ratio) for band in rules.credit_bands]
    start_date, deadline = rules.start_date, rules.deadline
    values = {
        "assessment_bands": [list(b) for b in sorted(assessment_bands)],
        "credit_bands": [list(b) for b in sorted(credit_bands)],
        "start_date": start_date or date(year + 1, 1, 10),
        "deadline": deadline or date(year + 1, 5, 31),
    }
    existing = session.get(AnnualRule, year)
    if existing is not None:
        same = all(getattr(existing, key) == value for key, value in values.items())
        if same:
            return existing, False
        if session.scalar(select(AnnualClearing.id).where(AnnualClearing.year == year).limit(1)):
            raise Conflict(f"clearings of {year} exist; its rules cannot change")
        before = {key: getattr(existing, key) for key in values}
        for key, value in values.items():
            setattr(existing, key, value)
        _recorded(
            session,
            "annual_rule.update",
            "annual_rule",
            str(year),
            (before, values),
            actor=actor,
            now=now,
        )
        return existing, False
    row = AnnualRule(year=year, recorded_at=now, recorded_by=actor.name, **values)
    session.add(row)
    _recorded(
        session,
        "annual_rule.create",
        "annual_rule",
        str(year),
        (None, values),
        actor=actor,
        now=now,
    )
    return row, True


def record_assessment(
    session: Session, data: AssessmentIn, *, actor: Principal, now: datetime
) -> tuple[Assessment, bool]:
    """An institution's scores of a year (and its confirmed clearing amount and budget cap);
    the same again returns it (False); a change is refused once cleared, unless disputed."""
    year, code, insutype = data.year, data.fixmedins_code, data.insutype
    assessment_score, credit_score = data.assessment_score, data.credit_score
    clearing_amount_fen, budget_fen = data.clearing_amount, data.budget
    institution = institutions.get_institution(session, code)
    if institutions.find_fund_ledger(session, institution.region_code, insutype) is None:
        raise Invalid.field("insutype", "fund_ledger_exists", f"no fund ledger {insutype} here")
    values = {
        "assessment_score": assessment_score,
        "credit_score": credit_score,
        "clearing_amount_fen": clearing_amount_fen,
        "budget_fen": budget_fen,
    }
    existing = session.scalar(
        select(Assessment).where(
            Assessment.year == year,
            Assessment.fixmedins_code == code,
            Assessment.insutype == insutype,
        )
    )
    if existing is not None:
        if all(getattr(existing, key) == value for key, value in values.items()):
            return existing, False
        cleared = session.scalar(
            select(AnnualClearing.status).where(
                AnnualClearing.year == year,
                AnnualClearing.fixmedins_code == code,
                AnnualClearing.insutype == insutype,
            )
        )
        if cleared is not None and cleared != DocumentStatus.DISPUTED:
            raise Conflict(
                f"the clearing of {year} exists; dispute it before changing the assessment"
            )
        before = {key: getattr(existing, key) for key in values}
        for key, value in values.items():
            setattr(existing, key, value)
        existing.recorded_at, existing.recorded_by = now, actor.name
        _recorded(
            session,
            "assessment.update",
            "institution",
            code,
            (before, values),
            actor=actor,
            now=now,
        )
        return existing, False
    row = Assessment(
        year=year,
        fixmedins_code=code,
        insutype=insutype,
        recorded_at=now,
        recorded_by=actor.name,
        **values,
    )
    session.add(row)
    _recorded(
        session,
        "assessment.create",
        "institution",
        code,
        (None, {"year": year, "insutype": insutype, **values}),
        actor=actor,
        now=now,
    )
    return row, True


def _recorded(
    session: Session,
    action: str,
    entity: str,
    key: str,
    change: tuple[Any, Any],
    *,
    actor: Principal,
    now: datetime,
) -> None:
    """Flush a change of rules or assessments and record it (before, after) in the trail."""
    session.flush()
    before, after = change
    trail.record(
        session,
        actor=actor,
        action=action,
        entity=entity,
        key=key,
        before=before,
        after=after,
        now=now,
    )


# --- flow ---------------------------------------------------------------------------------------


def _post_approval(session: Session, clearing: AnnualClearing, now: datetime) -> None:
    draft = entries.clearing_approval(
        clearing_id=clearing.id,
        version=clearing.version,
        year=clearing.year,
        region_code=clearing.region_code,
        insutype=clearing.insutype,
        fixmedins_code=clearing.fixmedins_code,
        clearing_amount_fen=clearing.clearing_amount_fen,
        approved_fund_fen=clearing.approved_fund_fen,
        deposit_held_fen=clearing.deposit_held_fen,
        forfeited_fen=clearing.forfeited_fen,
        offset_fen=clearing.offset_fen,
        actual_fen=clearing.actual_fen,
        effective_at=now,
    )
    if draft is not None:
        ledger.post(session, draft, now=now)


class ClearingKind(payables.Kind[AnnualClearing]):
    """Annual clearings in the payable-document flow: the actual amount is paid, under the
    annual instruction id of the year, booked to its December."""

    name, model, amount = "clearing", AnnualClearing, "actual_fen"

    def payment(self, clearing: AnnualClearing, fund: FundLedger) -> payables.Payment:
        year, code = clearing.year, clearing.fixmedins_code
        first_id = bank_rules.annual_instruction_id(year, fund.region_code, fund.insutype, code)
        return payables.Payment(first_id, "annual", f"医保基金年度清算 {year}", f"{year}-12")

    def components(self, clearing: AnnualClearing) -> dict[str, Any]:
        return {"clearing_amount": clearing.clearing_amount_fen, "actual": clearing.actual_fen}

    def recompute(self, session: Session, clearing: AnnualClearing, now: datetime, by: str) -> None:
        computation.recompute(session, clearing, now, by)

    def post_approval(self, session: Session, clearing: AnnualClearing, now: datetime) -> None:
        _post_approval(session, clearing, now)


FLOW = payables.Flow(ClearingKind())


def unfinished_after_deadline(session: Session, *, today: date) -> list[tuple[str, str, str]]:
    """From the day after the deadline (1 June by default) each unfinished clearing of Y is
    an alert (`clearing_unpaid`); so is each institution that had business in Y (a declared
    period of Y, or an assessment of Y) and has no clearing of Y at all (`clearing_not_done`)."""
    found = []
    for rule in session.scalars(
        select(AnnualRule).where(AnnualRule.deadline < today).order_by(AnnualRule.year)
    ):
        for code, insutype in never_cleared(session, rule.year):
            found.append(
                (
                    "clearing_not_done",
                    f"{code}:{insutype}:{rule.year}",
                    f"{rule.year} 年度清算期限 {rule.deadline} 已过，该机构尚未清算",
                )
            )
        for clearing in session.scalars(
            select(AnnualClearing).where(
                AnnualClearing.year == rule.year, AnnualClearing.status.not_in(DONE_STATUSES)
            )
        ):
            found.append(
                (
                    "clearing_unpaid",
                    f"{clearing.fixmedins_code}:{clearing.insutype}:{rule.year}",
                    f"the clearing of {rule.year} is {clearing.status} after {rule.deadline}",
                )
            )
    return found


def never_cleared(session: Session, year: int) -> list[tuple[str, str]]:
    """(institution, insurance type) with business in Y (a declared period of Y, or an
    assessment of Y) and no clearing of Y at all."""
    declared = select(Declaration.fixmedins_code, Declaration.insutype).where(
        Declaration.period.between(f"{year}-01", f"{year}-12")
    )
    assessed = select(Assessment.fixmedins_code, Assessment.insutype).where(Assessment.year == year)
    expected = {(code, insutype) for code, insutype in session.execute(declared.union(assessed))}
    cleared = set(
        session.execute(
            select(AnnualClearing.fixmedins_code, AnnualClearing.insutype).where(
                AnnualClearing.year == year
            )
        ).all()
    )
    return sorted(expected - {(code, insutype) for code, insutype in cleared})


def list_clearings(
    session: Session,
    *,
    year: int | None,
    status: str | None,
    fixmedins_code: str | None,
    after_id: int | None,
    limit: int,
) -> list[AnnualClearing]:
    return FLOW.documents(
        session,
        after_id=after_id,
        limit=limit,
        year=year,
        status=status,
        fixmedins_code=fixmedins_code,
    )


def scenario_rows(session: Session) -> list[dict[str, Any]]:
    rows = [
        {
            "year": c.year,
            "region": c.region_code,
            "insutype": c.insutype,
            "fixmedins_code": c.fixmedins_code,
            "clearing_amount": yuan(c.clearing_amount_fen),
            "settled": yuan(c.settled_fen),
            "deposit_held": yuan(c.deposit_held_fen),
            "forfeited": yuan(c.forfeited_fen),
            "offset": yuan(c.offset_fen),
            "actual": yuan(c.actual_fen),
            "return_ratio": bp_str(c.return_ratio_bp),
            "status": c.status,
        }
        for c in session.scalars(select(AnnualClearing))
    ]
    return sorted(rows, key=lambda r: (r["year"], r["region"], r["insutype"], r["fixmedins_code"]))
