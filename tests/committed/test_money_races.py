"""Races that would move money wrongly, with real commits on PostgreSQL (READ COMMITTED; on
SQLite one writer at a time makes them impossible): a bank return committed while a statement
is being computed, a repayment racing the approval that takes the same receivable, two bulk
audit imports sharing settlements in opposite orders."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.principal import Principal
from app.bank import service as bank
from app.daily import service as daily
from app.db import make_engine, make_sessionmaker, transaction
from app.errors import Invalid
from app.institutions import service as institutions
from app.ledger import service as ledger
from app.ledger.rules import account_code
from app.money import yuan
from app.monthly import (
    advances,
    audits,
    computation,
    declarations,
    receivables,
    statements,
)
from app.monthly.models import MonthlyStatement
from app.monthly.schemas import AuditIn
from app.payables import offsets
from app.settlements import service as settlements
from app.settlements.schemas import ReconciliationIn
from app.workdays import service as workdays
from tests.support import builders
from tests.support.daily import at, generate, settle
from tests.support.databases import backend, fresh_database

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="row-level concurrency: SQLite has one writer at a time"
)
HOSPITAL = Principal(None, "user-H001", "hospital", "H001")
OPERATOR = Principal(None, "op", "operator")
ACCOUNTANT = Principal(None, "acc", "accountant")


@pytest.fixture
def factory() -> Iterator[sessionmaker[Session]]:
    with fresh_database() as url:
        engine = make_engine(url, pool_size=4)
        made = make_sessionmaker(engine)
        with transaction(made) as session:
            builders.institution(session, "H001", start=date(2026, 3, 1))
        yield made
        engine.dispose()


def _compute(session: Session, day: date) -> None:
    fund = institutions.get_fund_ledger(session, "640100", "310")
    computation.compute_due(
        session, fund, today=day, now=at(day, 1), calendar=workdays.load(session)
    )


def _reconcile(session: Session, day: date) -> None:
    held = settlements.held_totals(session, "H001", "310", day, day)[day]
    data = ReconciliationIn.model_validate(
        {
            "fixmedins_code": "H001",
            "insutype": "310",
            "setl_date": day.isoformat(),
            "count": held.count,
            "fund_amount": yuan(held.fund_fen),
        }
    )
    settlements.reconcile(session, data, actor=HOSPITAL, now=at(day, 23))


def _declare(session: Session, period: str, day: date) -> None:
    declarations.declare(session, "H001", "310", period, actor=HOSPITAL, now=at(day))


def _statement(session: Session, period: str) -> MonthlyStatement:
    found = session.scalar(select(MonthlyStatement).where(MonthlyStatement.period == period))
    assert found is not None
    return found


def _in_thread(factory: sessionmaker[Session], step: Callable[[Session], object]) -> Callable:
    """Start `step` in its own transaction now; returns a join that reports its error."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction(factory) as session:
                step(session)
        except BaseException as error:  # reported by the join
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()

    def join() -> None:
        thread.join(60)
        assert not thread.is_alive() and not errors, errors

    return join


def _bank_result(session: Session, instruction_id: str, status: str, when: datetime) -> None:
    """A success with receipt HD1, or the return of that receipt, as the callback applies it."""
    instruction = bank.find(session, instruction_id)
    assert instruction is not None
    failure = {"reason": "账户已销户"} if status == "RETURNED" else None
    outcome = bank.apply_result(
        session,
        instruction,
        status,
        instruction.amount_fen,
        instruction.payee_account,
        {"receipt_no": "HD1"},
        failure,
        when,
    )
    assert outcome == "applied"


def test_a_return_committed_while_the_statement_is_computed_is_paid_once(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(factory) as session:
        settle(session, "H001", "S1", 1_000_000, date(2026, 3, 6))  # daily 6,000.00
        batch = generate(session, date(2026, 3, 6))
        daily.approve(session, batch.id, actor=ACCOUNTANT, now=at(date(2026, 3, 9), 9))
        fund = institutions.get_fund_ledger(session, "640100", "310")
        [instruction_id] = daily.submit_due(
            session, fund, today=date(2026, 3, 9), now=at(date(2026, 3, 9), 14, 30)
        )
        _bank_result(session, instruction_id, "SUCCESS", at(date(2026, 3, 9), 15))
        _reconcile(session, date(2026, 3, 6))
        _declare(session, "2026-03", date(2026, 4, 1))

    def returned(session: Session) -> None:
        _bank_result(session, instruction_id, "RETURNED", at(date(2026, 4, 16), 1))

    take = computation._take

    def take_then_the_callback_commits(session: Session, fund: object, period: str) -> None:
        take(session, fund, period)  # type: ignore[arg-type]
        _in_thread(factory, returned)()

    monkeypatch.setattr(computation, "_take", take_then_the_callback_commits)
    with transaction(factory) as session:
        _compute(session, date(2026, 4, 16))
    monkeypatch.setattr(computation, "_take", take)
    with transaction(factory) as session:
        _declare(session, "2026-04", date(2026, 5, 6))
        _compute(session, date(2026, 5, 18))
    with transaction(factory) as session:
        unpaid_in_march = 600_000 - _statement(session, "2026-03").daily_paid_fen
        added_back_in_april = _statement(session, "2026-04").returned_fen
        assert unpaid_in_march + added_back_in_april == 600_000  # once, not twice


def test_a_repayment_racing_the_approval_that_takes_the_receivable_is_refused(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(factory) as session:
        advances.register(
            session,
            code="H001",
            insutype="310",
            period="2026-03",
            amount_fen=200_000,
            reference="ZC-1",
            actor=OPERATOR,
            now=at(date(2026, 3, 20)),
        )
        _declare(session, "2026-03", date(2026, 4, 1))
        _compute(session, date(2026, 4, 16))
        march = _statement(session, "2026-03")  # net −2,000.00: a receivable
        statements.FLOW.confirm(
            session, march.id, reference=None, actor=HOSPITAL, now=at(date(2026, 4, 16))
        )
        statements.FLOW.approve(session, march.id, actor=ACCOUNTANT, now=at(date(2026, 4, 16), 11))
        settle(session, "H001", "S1", 1_000_000, date(2026, 4, 8))
        generate(session, date(2026, 4, 8))
        _reconcile(session, date(2026, 4, 8))
        _declare(session, "2026-04", date(2026, 5, 6))
        _compute(session, date(2026, 5, 18))
        april = _statement(session, "2026-04")
        assert april.offset_fen == 200_000  # takes the whole receivable
        statements.FLOW.confirm(
            session, april.id, reference=None, actor=HOSPITAL, now=at(date(2026, 5, 18))
        )
    original = offsets.normal_balance
    joins: list[Callable] = []

    def balance_read_then_the_approval_runs(name: str, amount: int) -> int:
        if not joins:
            joins.append(
                _in_thread(
                    factory,
                    lambda other: statements.FLOW.approve(
                        other, april.id, actor=ACCOUNTANT, now=at(date(2026, 5, 18), 11)
                    ),
                )
            )
            time.sleep(1)  # the approval commits now unless a lock makes it wait
        return original(name, amount)

    monkeypatch.setattr(offsets, "normal_balance", balance_read_then_the_approval_runs)
    with pytest.raises(Invalid) as refused, transaction(factory) as session:
        receivables.repay(
            session,
            region="640100",
            insutype="310",
            code="H001",
            amount_fen=200_000,
            receipt_no="HK-1",
            actor=ACCOUNTANT,
            now=at(date(2026, 5, 18), 11),
        )
    assert refused.value.errors[0].rule == "repayment_within_receivable"
    joins[0]()
    with transaction(factory) as session:
        receivable = account_code("receivable", "640100", "310", "H001")
        assert ledger.balance_or_zero(session, receivable) == 0  # offset once, never below


def test_two_bulk_audit_imports_sharing_settlements_do_not_deadlock(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(factory) as session:
        settle(session, "H001", "S1", 1_000_000, date(2026, 3, 6))
        settle(session, "H001", "S2", 1_000_000, date(2026, 3, 6))
    barrier = threading.Barrier(2)
    outcomes = ["?", "?"]
    record = audits.record
    first_items: set[int] = set()

    def record_then_meet(session: Session, **kwargs: object) -> object:
        """After each import's first item, wait (2 s at most) for the other import to have
        recorded its own first item: both then hold one settlement and want the other's."""
        result = record(session, **kwargs)  # type: ignore[arg-type]
        if threading.get_ident() not in first_items:
            first_items.add(threading.get_ident())
            # broken: the other import waits for our locks, as it should
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(2)
        return result

    monkeypatch.setattr(audits, "record", record_then_meet)

    def item(setl_id: str, rule: str) -> AuditIn:
        return AuditIn.model_validate(
            {
                "fixmedins_code": "H001",
                "setl_id": setl_id,
                "rule_code": rule,
                "amount": "10.00",
                "reason": "超标准收费",
            }
        )

    def bulk(number: int, order: list[str]) -> None:
        try:
            with transaction(factory) as session:
                results = audits.record_bulk(
                    session,
                    [item(setl_id, f"R{number}") for setl_id in order],
                    actor=OPERATOR,
                    now=at(date(2026, 3, 12)),
                )
                assert [r["outcome"] for r in results] == ["created", "created"]
            outcomes[number] = "ok"
        except BaseException as error:
            outcomes[number] = repr(error)

    threads = [
        threading.Thread(target=bulk, args=(0, ["S1", "S2"])),
        threading.Thread(target=bulk, args=(1, ["S2", "S1"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["ok", "ok"], outcomes
