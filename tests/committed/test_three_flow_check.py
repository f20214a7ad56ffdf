"""The bank's statements and the three-flow check on a played scenario (issue 19): the
simulator's statements reconcile to the fen; a statement with one entry altered is caught,
and a correction supersedes it with history; each flow corrupted once (a missing statement
entry, a line without its instruction, a double receipt, a direct SQL update of an amount)
is named by the check with its document; `fundledger check` exits 0, then 1.

One scenario is played per module (real commits); each corruption is made in a transaction
that is rolled back, except the last test's, which is committed on purpose."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app import migrate
from app.alerts.models import Alert
from app.bank.models import PaymentInstruction
from app.bank.simulator import BankSimulator
from app.bankrecon import reconciliation
from app.bankrecon import service as bankrecon
from app.bankrecon.models import BankStatement, BankStatementEntry
from app.bankrecon.schemas import StatementIn
from app.cli import cli
from app.clock import at_shanghai
from app.config import get_settings
from app.daily.models import DailyLine
from app.db import make_engine, make_sessionmaker, transaction
from app.errors import Conflict, Invalid
from app.institutions.models import FundLedger
from app.ledger import service as ledger
from app.ledger.rules import Draft, DraftLines, account_code
from app.scenarios.model import Scenario
from app.scenarios.runner import Runner
from app.threeflow import service as threeflow
from app.workdays.rules import WorkCalendar
from tests.support.databases import fresh_database

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "own" / "monthly-adjustments.json"
NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


@dataclass
class Played:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    bank: BankSimulator
    scenario: Scenario


@pytest.fixture(scope="module")
def played() -> Iterator[Played]:
    scenario = Scenario.model_validate(json.loads(SCENARIO.read_text(encoding="utf-8")))
    with fresh_database(migrated=False) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        runner = Runner(scenario, engine)
        runner.play()
        yield Played(url, engine, make_sessionmaker(engine), runner.bank, scenario)
        engine.dispose()


@pytest.fixture
def session(played: Played) -> Iterator[Session]:
    """A transaction on the played database, rolled back at the end."""
    with played.factory() as session:
        session.begin()
        try:
            yield session
        finally:
            session.rollback()


def _named(report: threeflow.Report, check: str, document: str) -> bool:
    return any(d.check == check and d.document == document for d in report.differences)


def _paid_daily(session: Session) -> PaymentInstruction:
    instruction = session.scalar(
        select(PaymentInstruction)
        .where(PaymentInstruction.kind == "daily", PaymentInstruction.status == "SUCCESS")
        .order_by(PaymentInstruction.instruction_id)
        .limit(1)
    )
    assert instruction is not None
    return instruction


# --- the bank's statements ---------------------------------------------------------------------


def test_the_simulators_statements_reconcile_to_the_fen(played: Played, session: Session) -> None:
    calendar = WorkCalendar({entry.date: entry.working for entry in played.scenario.calendar})
    rows = session.scalars(select(BankStatement).where(BankStatement.superseded_at.is_(None))).all()
    days = {row.statement_date for row in rows}
    # a statement for every working day from the first to the last fetched, none for others
    first, last = min(days), max(days)
    working = {
        first.fromordinal(n)
        for n in range(first.toordinal(), last.toordinal() + 1)
        if calendar.is_working(first.fromordinal(n))
    }
    assert days == working
    assert {row.status for row in rows} == {"RECONCILED"}
    assert all(row.unexplained_fen == 0 for row in rows)
    # every kind of movement was on them: payments, the return, the advance, appropriations
    kinds = set(session.scalars(select(BankStatementEntry.match_kind).distinct()))
    assert {"instruction", "return", "procurement_advance", "appropriation"} <= kinds
    outcomes = set(session.scalars(select(BankStatementEntry.outcome).distinct()))
    assert outcomes == {"matched"}
    # the last statement's closing balance is the ledger's bank account, to the fen
    latest = max(rows, key=lambda row: row.statement_date)
    assert latest.closing_fen == latest.ledger_balance_fen
    assert not session.scalars(select(Alert).where(Alert.kind.like("bank_statement%"))).all()


def _statement_with_a_payment(played: Played, session: Session) -> dict[str, Any]:
    instruction = _paid_daily(session)
    entry = session.execute(
        select(BankStatement.statement_date)
        .join(BankStatementEntry, BankStatementEntry.statement_id == BankStatement.id)
        .where(BankStatementEntry.business_ref == instruction.instruction_id)
    ).scalar_one()
    status, body = played.bank.statement(instruction.payer_account, entry)
    assert status == 200
    return body


def test_a_statement_with_one_entry_altered_is_caught_and_a_correction_supersedes_it(
    played: Played, session: Session
) -> None:
    original = _statement_with_a_payment(played, session)
    altered = copy.deepcopy(original)
    target = next(e for e in altered["entries"] if e["direction"] == "DEBIT")
    target["amount"] = str(Decimal(target["amount"]) + Decimal("0.01"))
    altered["closing_balance"] = str(Decimal(altered["closing_balance"]) - Decimal("0.01"))

    # the same statement again: nothing new
    same, created = bankrecon.receive(
        session, StatementIn.model_validate(original), source="upload", actor="op", now=NOW
    )
    assert not created and same.version == 1

    # one person's upload never replaces what the bank delivered (it could hide a payment)
    with pytest.raises(Conflict, match="only the bank"):
        bankrecon.receive(
            session, StatementIn.model_validate(altered), source="upload", actor="op", now=NOW
        )
    row, created = bankrecon.receive(
        session, StatementIn.model_validate(altered), source="fetch", actor="bank", now=NOW
    )
    assert created and row.version == 2 and row.status == "DIFFERENCES"
    assert row.unexplained_fen == -1  # the bank took a fen more than the ledger says
    entry = session.scalar(
        select(BankStatementEntry).where(
            BankStatementEntry.statement_id == row.id,
            BankStatementEntry.business_ref == target["business_ref"],
        )
    )
    assert entry is not None and entry.outcome == "amount_difference"
    assert entry.expected_fen is not None and entry.amount_fen == entry.expected_fen + 1
    subject = f"{row.account}:{row.statement_date}:v2"
    alert = session.scalar(
        select(Alert).where(Alert.kind == "bank_statement_difference", Alert.subject == subject)
    )
    assert alert is not None and alert.resolved_at is None
    report = threeflow.check(session)
    assert not report.ok
    assert any(
        d.check == "bank_statement_entry" and target["business_ref"] in d.detail
        for d in report.differences
    )

    # the bank corrects it: version 3, reconciled; the earlier versions kept
    fixed, created = bankrecon.receive(
        session, StatementIn.model_validate(original), source="fetch", actor="bank", now=NOW
    )
    assert created and fixed.version == 3 and fixed.status == "RECONCILED"
    versions = session.scalars(
        select(BankStatement)
        .where(
            BankStatement.account == fixed.account,
            BankStatement.statement_date == fixed.statement_date,
        )
        .order_by(BankStatement.version)
    ).all()
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.superseded_by_id for v in versions] == [versions[1].id, fixed.id, None]
    session.refresh(alert)
    assert alert.resolved_at == NOW
    assert threeflow.check(session).ok


def test_a_statement_that_does_not_add_up_is_refused(played: Played, session: Session) -> None:
    body = _statement_with_a_payment(played, session)
    body["closing_balance"] = str(Decimal(body["closing_balance"]) + Decimal("0.01"))
    with pytest.raises(Invalid) as refused:
        bankrecon.receive(
            session, StatementIn.model_validate(body), source="upload", actor="op", now=NOW
        )
    assert refused.value.errors[0].field == "closing_balance"
    assert refused.value.errors[0].rule == "balance_adds_up"


# --- each flow corrupted once -------------------------------------------------------------------


def test_the_played_scenario_passes(session: Session) -> None:
    report = threeflow.check(session)
    assert report.ok, threeflow.render(report)
    assert report.counts["daily_lines"] > 0 and report.counts["bank_statement_entries"] > 0


def test_a_missing_statement_entry_is_named(session: Session) -> None:
    instruction = _paid_daily(session)
    session.execute(
        text("DELETE FROM bank_statement_entry WHERE business_ref = :ref AND direction = 'D'"),
        {"ref": instruction.instruction_id},
    )
    report = threeflow.check(session)
    assert _named(report, "bank_statement_entry", f"instruction:{instruction.instruction_id}")


def test_a_line_without_its_instruction_is_named(session: Session) -> None:
    instruction = _paid_daily(session)
    session.execute(
        text("UPDATE daily_line SET instruction_id = NULL WHERE id = :id"),
        {"id": instruction.source_id},
    )
    report = threeflow.check(session)
    assert _named(report, "line_instruction", f"daily_line:{instruction.source_id}")
    assert _named(report, "line_instruction", f"instruction:{instruction.instruction_id}")


def test_a_double_receipt_is_named(session: Session) -> None:
    instruction = _paid_daily(session)
    region, insutype = instruction.region_code, instruction.insutype
    ledger.post(
        session,
        Draft(
            kind="instruction_success",
            key=f"instruction:{instruction.instruction_id}:success:again",
            region_code=region,
            insutype=insutype,
            fixmedins_code=instruction.fixmedins_code,
            lines=DraftLines()
            .transfer(
                account_code("in_transit", region, insutype),
                account_code("bank", region, insutype),
                instruction.amount_fen,
            )
            .result(),
            effective_at=NOW,
            business_ref=f"instruction:{instruction.instruction_id}",
        ),
        now=NOW,
    )
    report = threeflow.check(session)
    assert _named(report, "receipt", f"instruction:{instruction.instruction_id}")
    assert _named(report, "in_transit", f"in_transit:{region}:{insutype}")


def test_a_direct_sql_update_of_an_amount_is_named(session: Session) -> None:
    instruction = _paid_daily(session)
    session.execute(
        text(
            "UPDATE payment_instruction SET amount_fen = amount_fen + 100 "
            "WHERE instruction_id = :id"
        ),
        {"id": instruction.instruction_id},
    )
    session.execute(
        text("UPDATE daily_line SET amount_fen = amount_fen + 1 WHERE id = :id"),
        {"id": instruction.source_id},
    )
    report = threeflow.check(session)
    assert _named(report, "instruction_amount", f"instruction:{instruction.instruction_id}")
    assert _named(report, "line_amount", f"daily_line:{instruction.source_id}")


def test_money_in_the_ledger_that_never_reached_the_bank_is_a_difference(
    session: Session,
) -> None:
    """An appropriation booked in the ledger (the bank account goes up, the funds check
    counts it) that no bank statement shows by the next statement is a difference, not a
    timing item."""
    latest = session.scalars(
        select(BankStatement)
        .where(BankStatement.superseded_at.is_(None))
        .order_by(BankStatement.statement_date.desc(), BankStatement.id.desc())
    ).first()
    assert latest is not None and latest.status == "RECONCILED"
    fund = session.scalars(
        select(FundLedger).where(
            FundLedger.region_code == latest.region_code, FundLedger.insutype == latest.insutype
        )
    ).one()
    region, insutype = fund.region_code, fund.insutype
    before = at_shanghai(latest.from_date - timedelta(days=1), time(10, 0))
    ledger.post(
        session,
        Draft(
            kind="appropriation",
            key=f"appropriation:{region}:{insutype}:NEVER-ARRIVED",
            region_code=region,
            insutype=insutype,
            fixmedins_code=None,
            lines=DraftLines()
            .transfer(
                account_code("bank", region, insutype),
                account_code("appropriation", region, insutype),
                500_000_000,
            )
            .result(),
            effective_at=before,
            business_ref="appropriation:NEVER-ARRIVED",
        ),
        now=before,
    )
    reconciliation.reconcile(session, latest, fund, NOW)
    assert latest.status == "DIFFERENCES"
    assert latest.reconciliation["counts"]["ledger_only_overdue"] == 1
    alert = session.scalars(
        select(Alert).where(Alert.kind == "bank_statement_difference", Alert.resolved_at.is_(None))
    ).first()
    assert alert is not None and "逾期未记 1 笔" in alert.detail


# --- the command line (last: it commits a corruption) -------------------------------------------


def test_the_command_line_exits_0_then_1(played: Played, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", played.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        passed = runner.invoke(cli, ["check", "--from", "2026-03-01", "--to", "2026-06-30"])
        assert passed.exit_code == 0, passed.output
        assert "three flows agree" in passed.output
        assert "daily_lines:" in passed.output
        with transaction(played.factory) as session:
            line_id = session.scalar(
                select(DailyLine.id).where(DailyLine.amount_fen > 0).order_by(DailyLine.id)
            )
            session.execute(
                text("UPDATE daily_line SET amount_fen = amount_fen + 1 WHERE id = :id"),
                {"id": line_id},
            )
        failed = runner.invoke(cli, ["check"])
        assert failed.exit_code == 1, failed.output
        assert "DIFFERENCE line_amount" in failed.output
        assert f"daily_line:{line_id}" in failed.output
        refused = runner.invoke(cli, ["check", "--from", "2026-07-01", "--to", "2026-06-30"])
        assert refused.exit_code == 1
    finally:
        get_settings.cache_clear()
