"""A daily payment keeps its amount per period of its settlements on its instruction (issue 15
item 3): a return is owed again per period without asking the daily domain, and migration 0017
fills the split in for the instructions saved before it, the same as the service saves it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db, migrate
from app.auth.principal import Principal
from app.bank import service as bank
from app.bank.models import BankReturn, PaymentInstruction
from app.daily import service as daily
from app.db import make_engine
from app.institutions import service as institutions
from tests.support import builders
from tests.support.daily import at, generate, settle
from tests.support.databases import fresh_database

FEB, FRI, MON = date(2026, 2, 27), date(2026, 3, 6), date(2026, 3, 9)
ID = "D260306-6401310-H001"


def _submit(session: Session) -> PaymentInstruction:
    """The fund's first batch holds a February and a March settlement of H001."""
    builders.fund(session)
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 300_000, FEB)
    settle(session, "H001", "S2", 1_000_000, FRI)
    batch = generate(session, FRI)
    daily.approve(session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(MON, 9))
    fund = institutions.get_fund_ledger(session, "640100", "310")
    assert daily.submit_due(session, fund, today=MON, now=at(MON, 14, 30)) == [ID]
    instruction = session.get(PaymentInstruction, ID)
    assert instruction is not None
    return instruction


def test_a_returned_daily_payment_is_owed_again_per_period() -> None:
    with fresh_database() as url:
        engine = make_engine(url)
        with Session(engine) as session:
            instruction = _submit(session)
            split = instruction.period_split
            assert [period for period, _ in split] == ["2026-02", "2026-03"]
            assert sum(amount for _, amount in split) == instruction.amount_fen
            receipt = {"receipt_no": "HD1", "amount": None}
            for status in ("SUCCESS", "RETURNED"):
                bank.apply_result(
                    session,
                    instruction,
                    status,
                    instruction.amount_fen,
                    instruction.payee_account,
                    receipt,
                    {"reason": "已销户"},
                    at(MON, 16),
                )
            owed = session.execute(
                select(BankReturn.period, BankReturn.amount_fen).order_by(BankReturn.period)
            ).all()
            assert [tuple(row) for row in owed] == [tuple(part) for part in split]
            session.commit()
        engine.dispose()


def test_migration_0017_fills_in_the_split_of_earlier_instructions() -> None:
    with fresh_database() as url:
        engine = make_engine(url)
        with Session(engine) as session:
            saved = _submit(session).period_split
            session.commit()
        migrate.downgrade(url, "0016")  # drops the column
        migrate.upgrade(url)  # adds it again, computed from the daily tables
        with Session(engine) as session:
            instruction = session.get(PaymentInstruction, ID)
            assert instruction is not None
            assert instruction.period_split == saved
        engine.dispose()


def test_a_submission_large_enough_for_copy_keeps_every_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL writes ≥ COPY_ROWS_MIN instructions with COPY, which takes the JSON split as
    text (a Python list of a period and an amount is no PostgreSQL array); lowered here so
    three institutions take that path."""
    monkeypatch.setattr(db, "COPY_ROWS_MIN", 2)
    codes = ("H001", "H002", "H003")
    with fresh_database() as url:
        engine = make_engine(url)
        with Session(engine) as session:
            builders.fund(session)
            for number, code in enumerate(codes, start=1):
                builders.institution(session, code)
                settle(session, code, f"S{number}F", 100_000 * number, FEB)
                settle(session, code, f"S{number}M", 200_000 * number, FRI)
            batch = generate(session, FRI)
            accountant = Principal(None, "acc", "accountant")
            daily.approve(session, batch.id, actor=accountant, now=at(MON, 9))
            fund = institutions.get_fund_ledger(session, "640100", "310")
            ids = daily.submit_due(session, fund, today=MON, now=at(MON, 14, 30))
            assert len(ids) == len(codes)
            session.commit()
        with Session(engine) as session:
            for instruction in session.scalars(select(PaymentInstruction)):
                split = instruction.period_split
                assert [period for period, _ in split] == ["2026-02", "2026-03"]
                assert sum(amount for _, amount in split) == instruction.amount_fen
        engine.dispose()
