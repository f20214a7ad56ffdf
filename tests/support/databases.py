"""Test databases: the shared one (rolled-back tests) and fresh ones (committed tests)."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app import migrate
from app.db import make_engine

PG_URL = os.environ.get("FUNDLEDGER_TEST_DATABASE_URL")
# Under pytest-xdist each worker (gw0, gw1, ...) has a database of its own on PostgreSQL: the
# given name with the worker's suffix, created by the session's `database_url` fixture; its
# template and fresh databases are named after it.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if PG_URL and WORKER:
    PG_URL = (
        make_url(PG_URL)
        .set(database=f"{make_url(PG_URL).database}_{WORKER}")
        .render_as_string(hide_password=False)
    )


def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


def engine_for_threads(url: str, threads: int) -> Engine:
    """An engine whose pool holds a connection per thread (and two more) on PostgreSQL; on
    SQLite the default (one writer at a time anyway)."""
    if backend() == "postgresql":
        return make_engine(url, pool_size=threads + 2)
    return make_engine(url)


def _admin_conninfo(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database="postgres")
    return parsed.render_as_string(hide_password=False)


_template: str | None = None
_sqlite_template: Path | None = None


def create_worker_database() -> None:
    """This worker's database (PostgreSQL under pytest-xdist), empty."""
    assert PG_URL is not None
    name = make_url(PG_URL).database
    with psycopg.connect(_admin_conninfo(PG_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_worker_database() -> None:
    assert PG_URL is not None
    name = make_url(PG_URL).database
    with psycopg.connect(_admin_conninfo(PG_URL), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_migrated() -> Path:
    """A SQLite file at head, migrated once per test run (per worker), copied for each fresh
    database: all migrations cost most of a second each time."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="fundledger-test-template-"))
        path = folder / "template.db"
        at_session_end(shutil.rmtree, folder, True)
        migrate.upgrade(f"sqlite:///{path}")
        _sqlite_template = path
    return _sqlite_template


_AT_SESSION_END: list[tuple[Callable[..., object], tuple[object, ...]]] = []


def at_session_end(function: Callable[..., object], *args: object) -> None:
    """Clean up at the test session's end (conftest's `pytest_sessionfinish`, then atexit as
    a fallback): an xdist worker ends without running atexit handlers."""
    _AT_SESSION_END.append((function, args))


def session_end() -> None:
    """Run the clean-ups, last registered first (each once)."""
    global _sqlite_template
    _sqlite_template = None
    while _AT_SESSION_END:
        function, args = _AT_SESSION_END.pop()
        function(*args)


atexit.register(session_end)


def _pg_template() -> str:
    """A database at head, migrated once per test run, cloned by CREATE DATABASE TEMPLATE."""
    global _template
    if _template is None:
        assert PG_URL is not None
        name = f"{make_url(PG_URL).database}_tpl"
        with psycopg.connect(_admin_conninfo(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        migrate.upgrade(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
        _template = name
    return _template


@contextmanager
def fresh_database(*, migrated: bool = True) -> Iterator[str]:
    """A new, empty database URL (at head when migrated), dropped afterwards."""
    if PG_URL:
        name = f"{make_url(PG_URL).database}_{secrets.token_hex(4)}"
        template = f' TEMPLATE "{_pg_template()}"' if migrated else ""
        with psycopg.connect(_admin_conninfo(PG_URL), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"{template}')
        try:
            yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with psycopg.connect(_admin_conninfo(PG_URL), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory(prefix="fundledger-test-") as folder:
        path = Path(folder) / "test.db"
        if migrated:
            shutil.copyfile(_sqlite_migrated(), path)
        yield f"sqlite:///{path}"


def drop_template() -> None:
    global _template
    if _template is not None and PG_URL:
        with psycopg.connect(_admin_conninfo(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{_template}" WITH (FORCE)')
        _template = None
