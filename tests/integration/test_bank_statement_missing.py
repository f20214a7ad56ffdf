"""A working day's statement the bank does not deliver raises `bank_statement_missing` (the
job is done for the day, so nothing else would ever say it), once per account and day.
`bankrecon.service.receive` resolves it when the statement arrives (fetched again or uploaded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.bank.protocol import StatementResult
from app.bankrecon import fetching
from app.clock import SimulatedClock
from app.db import transaction
from tests.support import builders

DAY = date(2026, 3, 9)  # a Monday


@dataclass
class Gateway:
    outcome: str
    asked: list[tuple[str, str]] = field(default_factory=list)

    def statement(self, account: str, statement_date: str) -> StatementResult:
        self.asked.append((account, statement_date))
        return StatementResult(self.outcome)


def _missing(session: Session) -> list[Any]:
    return list(session.scalars(select(Alert).where(Alert.kind == "bank_statement_missing")))


def test_an_undelivered_statement_is_an_alert(
    session_factory: sessionmaker[Session], clock: SimulatedClock
) -> None:
    with transaction(session_factory) as session:
        builders.fund(session)
    gateway = Gateway("not_ready")
    ctx = SimpleNamespace(session_factory=session_factory, gateway=gateway, clock=clock)
    result = fetching.fetch_day(ctx, DAY)
    assert list(result["statements"].values()) == ["not_ready"]
    assert len(gateway.asked) == 1
    with transaction(session_factory) as session:
        [alert] = _missing(session)
        account = gateway.asked[0][0]
        assert alert.subject == f"{account}:{DAY}" and alert.resolved_at is None
        assert "bank_statement" in alert.detail
    fetching.fetch_day(ctx, DAY)  # asked again: still one alert
    with transaction(session_factory) as session:
        assert len(_missing(session)) == 1
    # a day off has no statement: nothing asked, nothing raised
    assert fetching.fetch_day(ctx, date(2026, 3, 8)) == {"working_day": False}
    assert len(gateway.asked) == 2
