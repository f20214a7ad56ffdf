"""Shared fixtures. Database tests run on SQLite, or on PostgreSQL when
FUNDLEDGER_TEST_DATABASE_URL is set (the PostgreSQL half of `make test`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.clock import SimulatedClock
from app.db import make_engine
from app.wiring import wire
from tests.support import databases

wire()  # as at start-up: tests call the services without an app too


def pytest_report_header() -> str:
    return f"fundledger database backend: {databases.backend()}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if databases.PG_URL:
        if databases.WORKER:
            databases.create_worker_database()
        migrate.upgrade(databases.PG_URL)
        yield databases.PG_URL
        databases.drop_template()
        if databases.WORKER:
            databases.drop_worker_database()
        return
    with tempfile.TemporaryDirectory(prefix="fundledger-test-") as folder:
        url = f"sqlite:///{Path(folder) / 'shared.db'}"
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One outer transaction per test, rolled back at the end (STYLE.md 13)."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # The code under test opens and commits its own transactions: they become savepoints.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 3, 6, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai


# Under pytest-xdist (`make test`: -n 2 --dist loadfile) a file runs whole on one worker, and
# the workers take files in collection order: the longest files go first, so that none of
# them starts last and runs alone at the end (schemathesis' five roles are over a third of
# the SQLite half's time on one worker). A plain run keeps the usual order.
LONGEST_FIRST = (
    "tests/api/test_schemathesis.py",
    "tests/committed/test_readme_tour.py",
    "tests/scenarios/",
    "tests/committed/test_kill_nine.py",
    "tests/committed/test_bank_faults_soak.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Only the workers collect under xdist (and their `numprocesses` option is reset): the
    # controller schedules the files in the order the workers report them.
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return

    def rank(item: pytest.Item) -> int:
        for position, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return position
        return len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file and among the others stays


def pytest_sessionfinish(session: pytest.Session) -> None:
    databases.session_end()  # temporary files and databases (xdist workers skip atexit)
