"""Annual clearing (SPEC §5): rules, assessments, the clearing of each institution once its
year's statements are final, its flow (confirm/dispute/approve), postings and payment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.annual import rules
from app.annual.models import AnnualClearing, AnnualRule, Assessment
from app.auth.service import Principal
from app.bank import rules as bank_rules
from app.bank import service as bank
from app.bank.models import PaymentInstruction
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution
from app.ledger import entries
from app.ledger import service as ledger
from app.money import bp_str, yuan
from app.monthly import rules as monthly_rules
from app.monthly.models import Declaration, MonthlyStatement
from app.trail import service as trail

FINAL_STATEMENTS = ("PAID", "SETTLED", "RECEIVABLE", "RETURNED")
PENDING_OFFSET_STATUSES = ("COMPUTED", "DISPUTED", "CONFIRMED")
DONE_STATUSES = ("PAID", "SETTLED", "RECEIVABLE")
SYSTEM = "system"


def score_hundredths(value: Decimal | int) -> int:
    return int(Decimal(value) * 100)


# --- rules and assessments --------------------------------------------------------------------


def set_rules(
    session: Session,
    *,
    year: int,
    assessment_bands: list[tuple[int, int]],
    credit_bands: list[tuple[int, int]],
    start_date: date | None,
    deadline: date | None,
    actor: Principal,
    now: datetime,
) -> tuple[AnnualRule, bool]:
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
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="annual_rule.update",
            entity="annual_rule",
            key=str(year),
            before=before,
            after=values,
            now=now,
        )
        return existing, False
    row = AnnualRule(year=year, recorded_at=now, recorded_by=actor.name, **values)
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="annual_rule.create",
        entity="annual_rule",
        key=str(year),
        before=None,
        after=values,
        now=now,
    )
    return row, True


def record_assessment(
    session: Session,
    *,
    year: int,
    code: str,
    insutype: str,
    assessment_score: int,
    credit_score: int,
    clearing_amount_fen: int | None,
    budget_fen: int | None,
    actor: Principal,
    now: datetime,
) -> tuple[Assessment, bool]:
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
        if cleared is not None and cleared != "DISPUTED":
            raise Conflict(
                f"the clearing of {year} exists; dispute it before changing the assessment"
            )
        before = {key: getattr(existing, key) for key in values}
        for key, value in values.items():
            setattr(existing, key, value)
        existing.recorded_at, existing.recorded_by = now, actor.name
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="assessment.update",
            entity="institution",
            key=code,
            before=before,
            after=values,
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
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="assessment.create",
        entity="institution",
        key=code,
        before=None,
        after={"year": year, "insutype": insutype, **values},
        now=now,
    )
    return row, True


# --- clearing -----------------------------------------------------------------------------------


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
    from app.monthly import statements as monthly

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
    open_receivable = monthly.open_receivables(session, fund.region_code, fund.insutype, [code])[
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
        "status": "COMPUTED",
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


# --- flow ---------------------------------------------------------------------------------------


def get(
    session: Session,
    clearing_id: int,
    *,
    actor: Principal,
    lock: bool = False,
    fund_lock: bool = False,
) -> AnnualClearing:
    """The clearing; `lock` holds its row; `fund_lock` takes the fund ledger's lock first
    (where offsets move: the order every such path takes, fund ledger then document)."""
    if fund_lock:
        known = get(session, clearing_id, actor=actor)
        fund = institutions.get_fund_ledger(session, known.region_code, known.insutype)
        institutions.lock_fund_ledger(session, fund.id)
    query = select(AnnualClearing).where(AnnualClearing.id == clearing_id)
    if lock:
        query = query.with_for_update()
    clearing = session.scalar(query.execution_options(populate_existing=True))
    if clearing is None or (actor.is_hospital and actor.fixmedins_code != clearing.fixmedins_code):
        raise NotFound(f"no clearing {clearing_id}")
    return clearing


def confirm(
    session: Session, clearing_id: int, *, reference: str | None, actor: Principal, now: datetime
) -> AnnualClearing:
    """The hospital confirms (清算确认), in the system or by a stamped document's reference."""
    clearing = get(session, clearing_id, actor=actor, lock=True)
    if clearing.status != "COMPUTED":
        if clearing.confirmed_at is not None:
            return clearing
        raise Conflict(f"clearing {clearing_id} is {clearing.status}, not awaiting confirmation")
    clearing.status = "CONFIRMED"
    clearing.confirmed_at, clearing.confirmed_by = now, actor.name
    clearing.confirmation_reference = reference
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="clearing.confirm",
        entity="clearing",
        key=str(clearing.id),
        before={"status": "COMPUTED"},
        after={"status": "CONFIRMED", "reference": reference},
        now=now,
    )
    return clearing


def dispute(
    session: Session, clearing_id: int, reason: str, *, actor: Principal, now: datetime
) -> AnnualClearing:
    clearing = get(session, clearing_id, actor=actor, lock=True)
    if clearing.status == "DISPUTED":
        return clearing
    if clearing.status != "COMPUTED":
        raise Conflict(
            f"clearing {clearing_id} is {clearing.status}; only a computed one is disputed"
        )
    clearing.status, clearing.disputed_at, clearing.dispute_reason = "DISPUTED", now, reason[:300]
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="clearing.dispute",
        entity="clearing",
        key=str(clearing.id),
        before={"status": "COMPUTED"},
        after={"status": "DISPUTED", "reason": reason},
        now=now,
    )
    return clearing


def recompute(
    session: Session, clearing_id: int, *, actor: Principal, now: datetime
) -> AnnualClearing:
    clearing = get(session, clearing_id, actor=actor, lock=True, fund_lock=True)
    if clearing.status != "DISPUTED":
        raise Conflict(
            f"clearing {clearing_id} is {clearing.status}; only a disputed one is recomputed"
        )
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
    before = {"clearing_amount": clearing.clearing_amount_fen, "actual": clearing.actual_fen}
    result = _compute(session, fund, rule, assessment, now=now, by=actor.name, existing=clearing)
    if result is None:
        raise Conflict("the year's statements are no longer all final")
    trail.record(
        session,
        actor=actor,
        action="clearing.recompute",
        entity="clearing",
        key=str(clearing.id),
        before=before,
        after={"clearing_amount": clearing.clearing_amount_fen, "actual": clearing.actual_fen},
        now=now,
    )
    return clearing


def approval_refusal(clearing: AnnualClearing, actor: Principal) -> str | None:
    """Why `actor` may not approve (or re-approve) the clearing (maker–checker: nobody
    approves what they computed or changed), or None. approve() refuses with it."""
    if actor.name == clearing.computed_by:
        return "nobody approves what they computed or changed (maker–checker)"
    return None


def approve(
    session: Session, clearing_id: int, *, actor: Principal, now: datetime
) -> AnnualClearing:
    """Approve (maker–checker), posting SPEC §6; or re-approve a failed payment to resend."""
    clearing = get(session, clearing_id, actor=actor, lock=True, fund_lock=True)
    refusal = approval_refusal(clearing, actor)
    if refusal is not None:
        raise Forbidden(refusal)
    if clearing.status == "FAILED":
        clearing.status, clearing.approved_at, clearing.approved_by = "APPROVED", now, actor.name
        session.flush()
        return clearing
    if clearing.status != "CONFIRMED":
        if clearing.approved_at is not None:
            return clearing
        raise Conflict(f"clearing {clearing_id} is {clearing.status}, not confirmed")
    _post_approval(session, clearing, now)
    clearing.status = monthly_rules.status_after_approval(clearing.actual_fen)
    clearing.approved_at, clearing.approved_by = now, actor.name
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="clearing.approve",
        entity="clearing",
        key=str(clearing.id),
        before={"status": "CONFIRMED"},
        after={"status": clearing.status},
        now=now,
    )
    return clearing


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


def submit_due(session: Session, fund: FundLedger, *, today: date, now: datetime) -> list[str]:
    clearings = session.scalars(
        select(AnnualClearing)
        .where(
            AnnualClearing.region_code == fund.region_code,
            AnnualClearing.insutype == fund.insutype,
            AnnualClearing.status == "APPROVED",
            AnnualClearing.actual_fen > 0,
        )
        .order_by(AnnualClearing.id)
    ).all()
    items = []
    for clearing in clearings:
        first_id = bank_rules.annual_instruction_id(
            clearing.year, fund.region_code, fund.insutype, clearing.fixmedins_code
        )
        instruction_id, resend_of = first_id, None
        if clearing.instruction_id is not None:
            current = session.get(PaymentInstruction, clearing.instruction_id)
            if current is None or current.status != "FAILED":
                continue
            resends = (
                session.scalar(
                    select(func.count())
                    .select_from(PaymentInstruction)
                    .where(PaymentInstruction.resend_of == first_id)
                )
                or 0
            )
            instruction_id, resend_of = bank_rules.resend_id(first_id, resends + 1), first_id
        items.append(
            bank.NewInstruction(
                instruction_id=instruction_id,
                kind="annual",
                fixmedins_code=clearing.fixmedins_code,
                amount_fen=clearing.actual_fen,
                purpose=f"医保基金年度清算 {clearing.year}",
                source_kind="clearing",
                source_id=clearing.id,
                period=f"{clearing.year}-12",
                resend_of=resend_of,
            )
        )
        clearing.instruction_id = instruction_id
    bank.create_instructions(session, fund, items, requested_date=today, now=now)
    session.flush()
    return [item.instruction_id for item in items]


def on_payment_result(session: Session, instruction: PaymentInstruction, now: datetime) -> None:
    clearing = session.get(AnnualClearing, instruction.source_id, with_for_update=True)
    if clearing is None or clearing.instruction_id != instruction.instruction_id:
        return
    clearing.status = {"SUCCESS": "PAID", "FAILED": "FAILED", "RETURNED": "RETURNED"}.get(
        instruction.status, clearing.status
    )
    clearing.payment_result_at = now
    session.flush()


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
    query = select(AnnualClearing).order_by(AnnualClearing.id).limit(limit)
    for value, column in (
        (year, AnnualClearing.year),
        (status, AnnualClearing.status),
        (fixmedins_code, AnnualClearing.fixmedins_code),
    ):
        if value is not None:
            query = query.where(column == value)
    if after_id is not None:
        query = query.where(AnnualClearing.id > after_id)
    return list(session.scalars(query))


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
