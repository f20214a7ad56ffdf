"""The yearly prepayment to the assistance fund (SPEC-ASSISTANCE A8, A9, A10 "Prepayment";
issue 21 item 6): computed by the job from real postings, approved by two accountants, received
with a posting `bank:R:610` → `appropriation:R:610`. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.assistance import policies, prepayments
from app.assistance.policy_models import PrepaymentRow
from app.assistance.policy_schemas import AssistancePolicyIn
from app.auth.principal import Principal
from app.clock import SHANGHAI, SimulatedClock
from app.config import Settings
from app.errors import Conflict
from app.jobcontext import JobContext
from app.ledger import service as ledger
from app.ledger.models import JournalEntry
from app.ledger.rules import Draft, DraftLines, account_code
from app.treasury import service as treasury
from jobs import assistance_prepayment
from tests.support import builders

R = "640100"
ACC1 = Principal(None, "acc1", "accountant")
ACC2 = Principal(None, "acc2", "accountant")
SUNDAY_10TH, MONDAY_11TH = date(2027, 1, 10), date(2027, 1, 11)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def code(name: str, institution: str | None = None) -> str:
    return account_code(name, R, "610", institution)


def _move(session: Session, key: str, debit: str, credit: str, fen: int, when: datetime) -> None:
    """One posting of the year's assistance flows, made through the ledger."""
    draft = Draft(
        kind="test_assistance",
        key=f"test:{key}",
        region_code=R,
        insutype="610",
        lines=DraftLines().transfer(debit, credit, fen).result(),
        effective_at=when,
        business_ref=f"test:{key}",
    )
    ledger.post(session, draft, now=when)


def _world(session: Session, *, rate: str = "0.25") -> None:
    builders.institution(session, "H001", insutypes=("390",))
    builders.fund(session, R, "610", effective_from=date(2026, 1, 1))
    policies.create(
        session,
        AssistancePolicyIn.model_validate(
            {
                "region": R,
                "effective_from": "2026-01-01",
                "prepayment_rate": rate,
                "prepayment_day": "01-10",
                "categories": {
                    "dibao": {"inpatient": {"bands": [["0.00", "0.80"]], "cap": "30000.00"}}
                },
            }
        ),
        actor=builders.ADMIN,
        now=builders.NOW,
    )


def _a9_postings(session: Session) -> None:
    """A9's 2026 in the 610 books: appropriation 21,000.00 on 01-12, then the year's
    assistance (statements 8,000 and 12,000, top-up 500, recoveries 1,800 and 887.49, an
    application 600 deducted, a cash repayment 1,000): bank 1,500.00, expense 18,412.51."""
    treasury.appropriate(
        session,
        region_code=R,
        insutype="610",
        amount_fen=2_100_000,
        reference="CZ-2026-610",
        actor=ACC1,
        now=at(date(2026, 1, 12)),
    )
    person = code("receivable", "H001")
    _move(session, "s-mar", code("expense"), code("bank"), 800_000, at(date(2026, 4, 9)))
    _move(session, "s-may", code("expense"), code("bank"), 1_200_000, at(date(2026, 6, 9)))
    _move(session, "topup", code("expense"), code("bank"), 50_000, at(date(2026, 5, 22)))
    _move(session, "clear-1", person, code("expense"), 180_000, at(date(2026, 7, 2)))
    _move(session, "appl", code("expense"), person, 60_000, at(date(2026, 8, 17)))
    _move(session, "clear-2", person, code("expense"), 88_749, at(date(2026, 11, 3)))
    _move(session, "cash", code("bank"), person, 100_000, at(date(2026, 11, 20)))
    # after midnight of 1 January in Shanghai (still 2026 in UTC): the new year's, not counted
    _move(
        session,
        "new-year",
        code("expense"),
        code("bank"),
        10_000,
        at(date(2027, 1, 1), 0, 10),
    )


def _ctx(session_factory: sessionmaker[Session], clock: SimulatedClock) -> JobContext:
    settings = Settings(environment="test", database_url="sqlite://")
    return JobContext(session_factory=session_factory, engine=None, clock=clock, settings=settings)  # type: ignore[arg-type]


def _rows(session: Session) -> list[PrepaymentRow]:
    """(Committed around the read: the jobs' transactions are savepoints of the test's.)"""
    session.commit()
    session.expire_all()
    rows = list(session.scalars(select(PrepaymentRow)))
    session.commit()
    return rows


def _prepayment_entries(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "prepayment")
        )
        or 0
    )


def test_a9_prepayment_of_2027_by_the_job_then_two_approvals_and_the_receipt(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _world(session)
    _a9_postings(session)
    session.commit()
    assert SUNDAY_10TH.weekday() == 6
    ctx = _ctx(session_factory, clock)
    clock.set(at(date(2027, 1, 8), 3))
    assert assistance_prepayment.run(ctx, date(2027, 1, 8)) == {"prepayments": {}}
    assert _rows(session) == []
    clock.set(at(MONDAY_11TH, 3))
    assert assistance_prepayment.run(ctx, MONDAY_11TH) == {
        "prepayments": {"640100:610": "2027:COMPUTED"}
    }
    assistance_prepayment.run(ctx, MONDAY_11TH)  # idempotent per (region, year)
    [row] = _rows(session)
    assert (row.year, row.region_code, row.computed_on) == (2027, R, MONDAY_11TH)
    assert (row.actual_fen, row.rate_bp, row.due_fen) == (1_841_251, 2500, 460_313)
    assert (row.carried_fen, row.transfer_fen, row.status) == (150_000, 310_313, "COMPUTED")
    assert prepayments.scenario_rows(session) == [
        {
            "year": 2027,
            "region": R,
            "actual": "18412.51",
            "due": "4603.13",
            "carried": "1500.00",
            "transfer": "3103.13",
            "status": "COMPUTED",
        }
    ]

    with pytest.raises(Conflict):  # not before two approvals
        prepayments.receive(session, row.id, "BK-1", actor=ACC1, now=at(MONDAY_11TH, 11))
    prepayments.approve(session, row.id, "CZ-PRE-2027", actor=ACC1, now=at(MONDAY_11TH, 11))
    assert row.status == "COMPUTED"  # one approval is not enough
    # the same accountant again: the same reference is a replay, another one a conflict
    prepayments.approve(session, row.id, "CZ-PRE-2027", actor=ACC1, now=at(MONDAY_11TH, 12))
    assert row.status == "COMPUTED"
    with pytest.raises(Conflict):
        prepayments.approve(session, row.id, "CZ-OTHER", actor=ACC1, now=at(MONDAY_11TH, 12))
    prepayments.approve(session, row.id, "CZ-PRE-2027", actor=ACC2, now=at(MONDAY_11TH, 14))
    assert row.status == "APPROVED"
    assert [a.approver for a in prepayments.approvals(session, [row.id])[row.id]] == [
        "acc1",
        "acc2",
    ]
    with pytest.raises(Conflict):  # a third accountant finds it approved
        prepayments.approve(
            session,
            row.id,
            "CZ-PRE-2027",
            actor=Principal(None, "acc3", "accountant"),
            now=at(MONDAY_11TH, 15),
        )
    bank_before = ledger.balance(session, code("bank"))
    prepayments.receive(session, row.id, "BK-2027-1", actor=ACC1, now=at(date(2027, 1, 15)))
    session.commit()
    assert row.status == "RECEIVED" and row.bank_reference == "BK-2027-1"
    assert ledger.balance(session, code("bank")) == bank_before + 310_313
    assert ledger.balance(session, code("appropriation")) == 2_100_000 + 310_313
    prepayments.receive(session, row.id, "BK-2027-1", actor=ACC2, now=at(date(2027, 1, 16)))
    session.commit()
    assert _prepayment_entries(session) == 1  # the replay posts nothing more
    with pytest.raises(Conflict):
        prepayments.receive(session, row.id, "BK-OTHER", actor=ACC1, now=at(date(2027, 1, 16)))
    assert prepayments.scenario_rows(session)[0]["status"] == "RECEIVED"


def test_carried_above_due_transfers_nothing_and_posts_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    """By hand: 2026 expense 10,000.00 at 30 % → due 3,000.00; the account ends 2026 with
    40,000.00 − 10,000.00 = 30,000.00 → transfer max(0, 3,000.00 − 30,000.00) = 0."""
    _world(session, rate="0.30")
    treasury.appropriate(
        session,
        region_code=R,
        insutype="610",
        amount_fen=4_000_000,
        reference="CZ-1",
        actor=ACC1,
        now=at(date(2026, 2, 2)),
    )
    _move(
        session,
        "s",
        code("expense"),
        code("bank"),
        1_000_000,
        at(date(2026, 12, 31), 23, 59),
    )
    session.commit()
    clock.set(at(MONDAY_11TH, 3))
    assistance_prepayment.run(_ctx(session_factory, clock), MONDAY_11TH)
    [row] = _rows(session)
    assert (row.actual_fen, row.due_fen, row.carried_fen, row.transfer_fen) == (
        1_000_000,
        300_000,
        3_000_000,
        0,
    )
    prepayments.approve(session, row.id, "CZ-A", actor=ACC1, now=at(MONDAY_11TH, 11))
    prepayments.approve(session, row.id, "CZ-A", actor=ACC2, now=at(MONDAY_11TH, 12))
    prepayments.receive(session, row.id, "BK-ZERO", actor=ACC1, now=at(MONDAY_11TH, 13))
    session.commit()
    assert row.status == "RECEIVED"
    assert _prepayment_entries(session) == 0
    assert ledger.balance(session, code("bank")) == 3_000_000


def test_no_prepayment_for_a_fund_switched_on_in_the_year_or_without_policy(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    builders.fund(session, R, "610", effective_from=date(2027, 1, 1))
    builders.fund(session, "640200", "610", effective_from=date(2026, 1, 1))  # no policy
    policies.create(
        session,
        AssistancePolicyIn.model_validate({"region": R, "effective_from": "2026-01-01"}),
        actor=builders.ADMIN,
        now=builders.NOW,
    )
    session.commit()
    clock.set(at(MONDAY_11TH, 3))
    assert assistance_prepayment.run(_ctx(session_factory, clock), MONDAY_11TH) == {
        "prepayments": {}
    }
    assert _rows(session) == []


def test_a_missed_prepayment_day_is_computed_at_the_next_run_of_the_year(
    session: Session, session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    _world(session)
    _a9_postings(session)
    session.commit()
    later = date(2027, 2, 1)
    clock.set(at(later, 3))
    assistance_prepayment.run(_ctx(session_factory, clock), later)
    [row] = _rows(session)
    assert (row.year, row.computed_on, row.transfer_fen) == (2027, later, 310_313)
