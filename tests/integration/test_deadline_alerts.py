"""Every alert kind of the deadline and submission jobs (issue 19 item 5): it fires when it
should, not before, and once; the deadline alerts resolve once the document caught up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.annual.models import AnnualClearing, AnnualRule
from app.auth.principal import Principal
from app.bank import sending
from app.bank.protocol import SendResult, StatusResult
from app.clock import SHANGHAI, SimulatedClock
from app.config import Settings
from app.daily import service as daily
from app.institutions import maintenance
from app.institutions import service as institutions
from app.institutions.schemas import PolicyIn
from app.jobcontext import JobContext
from app.monthly import deadlines
from app.monthly.models import Declaration, MonthlyStatement
from app.workdays import service as workdays
from jobs import alerts_check, submission
from tests.support import builders
from tests.support.daily import at, generate, settle

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _ctx(
    session_factory: sessionmaker[Session], clock: SimulatedClock, gateway: Any = None
) -> JobContext:
    settings = Settings(environment="test", database_url="sqlite://")
    return JobContext(
        session_factory=session_factory,
        engine=None,  # type: ignore[arg-type]
        clock=clock,
        settings=settings,
        gateway=gateway,
    )


def _alerts(session: Session, kind: str) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))


def _run_alerts(
    session_factory: sessionmaker[Session], clock: SimulatedClock, day: date
) -> dict[str, Any]:
    clock.set(datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI))
    return alerts_check.run(_ctx(session_factory, clock), day)


def _declaration_day(session: Session, day: int) -> None:
    """H001 in 640100/310, the policy's declaration day `day` (not the default 15)."""
    builders.institution(session, "H001")
    fund = institutions.get_fund_ledger(session, "640100", "310")
    maintenance.add_policy_version(
        session,
        fund,
        PolicyIn.model_validate({"effective_from": "2026-02-01", "declaration_day": day}),
        actor=builders.ADMIN,
        now=NOW,
    )


def _statement(session: Session, status: str, *, approved_at: datetime | None = None) -> None:
    session.add(
        MonthlyStatement(
            region_code="640100",
            insutype="310",
            fixmedins_code="H001",
            period="2026-03",
            status=status,
            version=1,
            deposit_rate_bp=500,
            fund_pay_fen=100_000,
            deposit_fen=5_000,
            ratio_amount_fen=95_000,
            audit_fen=0,
            daily_paid_fen=60_000,
            procurement_fen=0,
            returned_fen=0,
            offset_fen=0,
            net_fen=35_000,
            computed_at=NOW,
            computed_by="system",
            approved_at=approved_at,
        )
    )
    session.commit()


def test_statement_not_computed_uses_the_policy_declaration_day(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _declaration_day(session, 5)
    session.add(
        Declaration(
            fixmedins_code="H001",
            insutype="310",
            period="2026-03",
            declared_at=NOW,
            declared_by="h",
        )
    )
    session.commit()
    calendar = workdays.load(session)
    due = deadlines.settlement_deadline("2026-03", 5, calendar)
    assert due < deadlines.settlement_deadline("2026-03", 15, calendar)
    _run_alerts(session_factory, clock, due)
    assert _alerts(session, "statement_not_computed") == []  # the last day is still in time
    _run_alerts(session_factory, clock, due + timedelta(days=1))
    _run_alerts(session_factory, clock, due + timedelta(days=2))
    [alert] = _alerts(session, "statement_not_computed")
    assert alert.subject == "H001:310:2026-03" and str(due) in alert.detail
    _statement(session, "COMPUTED")  # caught up: resolved by the next run
    _run_alerts(session_factory, clock, due + timedelta(days=3))
    assert _alerts(session, "statement_not_computed")[0].resolved_at is not None


def test_statement_not_confirmed_five_working_days_before_the_limit(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _declaration_day(session, 15)
    _statement(session, "COMPUTED")
    calendar = workdays.load(session)
    due = deadlines.settlement_deadline("2026-03", 15, calendar)
    six_before = due
    for _ in range(deadlines.CONFIRMATION_WARNING_DAYS + 1):
        six_before = six_before - timedelta(days=1)
        while not calendar.is_working(six_before):
            six_before -= timedelta(days=1)
    _run_alerts(session_factory, clock, six_before)
    assert _alerts(session, "statement_not_confirmed") == []
    five_before = calendar.after(six_before)
    assert calendar.working_days_between(five_before, due) == 5
    _run_alerts(session_factory, clock, five_before)
    _run_alerts(session_factory, clock, calendar.after(five_before))
    [alert] = _alerts(session, "statement_not_confirmed")
    assert alert.subject == "H001:310:2026-03" and alert.resolved_at is None
    row = session.scalar(select(MonthlyStatement))
    assert row is not None
    row.status = "CONFIRMED"
    session.commit()
    _run_alerts(session_factory, clock, calendar.after(calendar.after(five_before)))
    assert _alerts(session, "statement_not_confirmed")[0].resolved_at is not None


def test_statement_not_paid_counts_from_the_shanghai_date_of_the_approval(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _declaration_day(session, 15)
    # 07:00 on 21 April in Beijing is still 20 April in UTC
    approved = datetime(2026, 4, 21, 7, 0, tzinfo=SHANGHAI)
    _statement(session, "APPROVED", approved_at=approved.astimezone(UTC))
    calendar = workdays.load(session)
    due = deadlines.payment_deadline(date(2026, 4, 21), calendar)
    assert due > deadlines.payment_deadline(date(2026, 4, 20), calendar)
    _run_alerts(session_factory, clock, due)
    assert _alerts(session, "statement_not_paid") == []
    _run_alerts(session_factory, clock, due + timedelta(days=1))
    _run_alerts(session_factory, clock, due + timedelta(days=2))
    [alert] = _alerts(session, "statement_not_paid")
    assert alert.subject == "H001:310:2026-03" and "2026-04-21" in alert.detail


def _annual_rule(session: Session) -> None:
    session.add(
        AnnualRule(
            year=2026,
            assessment_bands=[[0, 10000]],
            credit_bands=[[0, 10000]],
            start_date=date(2027, 3, 1),
            deadline=date(2027, 5, 31),
            recorded_at=NOW,
            recorded_by="op",
        )
    )


def test_clearing_unpaid_and_never_cleared_after_the_deadline(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    _annual_rule(session)
    for code in ("H001", "H002"):
        session.add(
            Declaration(
                fixmedins_code=code,
                insutype="310",
                period="2026-11",
                declared_at=NOW,
                declared_by="h",
            )
        )
    session.add(  # H001's clearing approved, not paid; H002 never cleared
        AnnualClearing(
            year=2026,
            region_code="640100",
            insutype="310",
            fixmedins_code="H001",
            status="APPROVED",
            approved_fund_fen=0,
            clearing_amount_fen=100_000,
            settled_fen=90_000,
            deposit_held_fen=5_000,
            return_ratio_bp=10000,
            forfeited_fen=0,
            gross_fen=10_000,
            offset_fen=0,
            actual_fen=10_000,
            base={},
            computed_at=NOW,
            computed_by="system",
        )
    )
    session.commit()
    _run_alerts(session_factory, clock, date(2027, 5, 31))
    assert _alerts(session, "clearing_unpaid") == []
    assert _alerts(session, "clearing_not_done") == []
    _run_alerts(session_factory, clock, date(2027, 6, 1))
    _run_alerts(session_factory, clock, date(2027, 6, 2))
    assert [a.subject for a in _alerts(session, "clearing_unpaid")] == ["H001:310:2026"]
    assert [a.subject for a in _alerts(session, "clearing_not_done")] == ["H002:310:2026"]


def test_submission_after_cutoff_once_and_not_before(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    builders.institution(session, "H001")
    session.commit()
    monday = date(2026, 3, 9)
    clock.set(at(monday, 14, 59))
    assert submission.run(_ctx(session_factory, clock), monday)["after_cutoff"] == []
    assert _alerts(session, "submission_after_cutoff") == []
    clock.set(at(monday, 15, 0))
    assert submission.run(_ctx(session_factory, clock), monday)["after_cutoff"] == ["640100:310"]
    submission.run(_ctx(session_factory, clock), monday)
    [alert] = _alerts(session, "submission_after_cutoff")
    assert alert.subject == "640100:310:2026-03-09"


class _RefusingBank:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, instruction: dict[str, Any]) -> SendResult:
        self.sent += 1
        return SendResult("refused", detail="400 payee_bank_code unknown")

    def query(self, instruction_id: str) -> StatusResult:
        return StatusResult(found=False)


@pytest.mark.parametrize("runs", [2])
def test_bank_refused_once(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock, runs: int
) -> None:
    builders.institution(session, "H001")
    friday, monday = date(2026, 3, 6), date(2026, 3, 9)
    settle(session, "H001", "S1", 1_000_000, friday)
    batch = generate(session, friday)
    daily.approve(session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(monday, 9))
    session.commit()
    refusing = _RefusingBank()
    clock.set(at(monday, 14, 30))
    assert _alerts(session, "bank_refused") == []
    submission.run(_ctx(session_factory, clock, refusing), monday)
    for _ in range(runs):
        sending.send_queued(_ctx(session_factory, clock, refusing), ["D260306-6401310-H001"])
    assert refusing.sent == 1 + runs
    [alert] = _alerts(session, "bank_refused")
    assert alert.subject == "D260306-6401310-H001" and "payee_bank_code" in alert.detail
