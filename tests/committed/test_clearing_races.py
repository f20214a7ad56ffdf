"""Two real-time clearings of one person-year racing with real commits on PostgreSQL (READ
COMMITTED; SQLite has one writer at a time): the person's register row is locked before the
person-year is computed, so the second sees the first's result and finds nothing to clear —
the difference is paid once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.assistance import clearings
from app.assistance.person_models import PersonPayment
from app.auth.principal import Principal
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker, transaction
from app.errors import Conflict
from app.main import create_app
from tests.support.assistance import settle
from tests.support.clearing import at, clearing_world, figures
from tests.support.databases import backend, fresh_database

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="row-level concurrency: SQLite has one writer at a time"
)
OPERATOR = Principal(None, "op", "operator")


@pytest.fixture
def factory() -> Iterator[sessionmaker[Session]]:
    with fresh_database() as url:
        engine = make_engine(url, pool_size=4)
        made = make_sessionmaker(engine)
        clock = SimulatedClock(datetime(2026, 3, 6, 2, 0, tzinfo=UTC))
        app = create_app(
            Settings(environment="test", database_url=url), session_factory=made, clock=clock
        )
        with TestClient(app) as client, made() as session:
            h = clearing_world(client, session)
            at(clock, "2026-05-20T10:05")
            settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
                   hifmi="2000.00", maf="8000.00")  # fmt: skip
            settle(client, h, "S2", "2026-05-20", inscp="40000.00", hifp="22000.00",
                   hifmi="3000.00", maf="12000.00")  # fmt: skip
        yield made
        engine.dispose()


def test_two_clearings_of_one_person_year_pay_once(factory: sessionmaker[Session]) -> None:
    now = datetime(2026, 5, 21, 2, 0, tzinfo=UTC)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def clear(reference: str) -> None:
        start.wait(10)
        try:
            with transaction(factory) as session:
                row, _ = clearings.clear(
                    session,
                    reference=reference,
                    psn_no="P1",
                    year=2026,
                    resolution=None,
                    actor=OPERATOR,
                    now=now,
                )
                outcomes[reference] = f"cleared {row.difference_fen}"
        except Conflict as refused:
            outcomes[reference] = str(refused.code)

    threads = [threading.Thread(target=clear, args=(ref,)) for ref in ("C-a", "C-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["cleared 50000", "nothing-to-clear"]
    with factory() as session:
        assert figures(session) == ("20500.00", "20500.00", "0.00")
        assert session.scalar(select(func.count()).select_from(PersonPayment)) == 1
