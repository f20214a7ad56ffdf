"""Engine, sessions and the declarative Base (with a naming convention from the start)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    make_url,
    select,
)
from sqlalchemy import any_ as sa_any
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_S = 30


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# BIGINT on PostgreSQL, INTEGER on SQLite (so an INTEGER PRIMARY KEY stays the rowid).
BigId = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")
Fen = BigInteger  # money in fen is always BIGINT


class UTCDateTime(TypeDecorator[datetime]):
    """An offset-aware instant stored in UTC (timestamptz on PostgreSQL)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        assert value.tzinfo is not None, "naive datetimes never reach the database"
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def pool_options(url: str, *, size: int, overflow: int, timeout_s: float) -> dict[str, Any]:
    """make_engine's QueuePool settings (PostgreSQL, SQLite files); none for an in-memory
    SQLite database, whose pool (one connection per thread, or a static one) has no size."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    ):
        return {}
    return {"pool_size": size, "max_overflow": overflow, "pool_timeout": timeout_s}


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Bound parameters (personal numbers among them) never appear in error messages or logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are off),
            # so that every transaction can take the write lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # A REPLACE deletes the old row: with recursive triggers on, that delete fires the
            # append-only triggers too (off, INSERT OR REPLACE would rewrite ledger rows).
            cursor.execute("PRAGMA recursive_triggers=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing at the
            # first write of a read transaction ("database is locked").
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(bind: Any, **kwargs: Any) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True, **kwargs)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One use case = one transaction: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


def any_of(session: Session, column: Any, values: list[Any]) -> Any:
    """`column IN values` as one array parameter on PostgreSQL (`= ANY(:values)`): a list of
    thousands costs one bound parameter, not thousands. SQLite callers chunk the list."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa_any(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def in_chunks(session: Session, values: list[Any], size: int = 900) -> list[list[Any]]:
    """One chunk on PostgreSQL (array parameter), chunks below SQLite's variable limit else."""
    if session.get_bind().dialect.name == "postgresql":
        return [values] if values else []
    return [values[start : start + size] for start in range(0, len(values), size)]


def dialect_insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT construct (for ON CONFLICT DO NOTHING)."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


_SEQUENCES: dict[str, str] = {}
COPY_ROWS_MIN = 200  # below this, a multi-row INSERT is cheaper than starting a COPY


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """Ids for rows inserted later in this transaction, ascending.

    PostgreSQL draws them from the table's sequence. SQLite writers are serialised
    (BEGIN IMMEDIATE), so the next ids after the largest one are ours; entries are never
    deleted, so an id is never reused.
    """
    if session.get_bind().dialect.name == "postgresql":
        sequence = _SEQUENCES.get(table.name)
        if sequence is None:
            sequence = session.execute(
                select(func.pg_get_serial_sequence(table.name, "id"))
            ).scalar_one()
            _SEQUENCES[table.name] = sequence
        return sorted(
            session.execute(
                select(func.nextval(sequence)).select_from(func.generate_series(1, count))
            ).scalars()
        )
    last = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Multi-row insert; COPY on PostgreSQL (thousands of bound parameters cost more in the
    driver than the server's work)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql" or len(rows) < COPY_ROWS_MIN:
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    # COPY takes JSON as text: the driver would write a Python list as an array (and refuse
    # one of mixed types); serialised as the INSERT path does (None as JSON null).
    as_json = [isinstance(table.c[column].type, JSON) for column in columns]
    driver = session.connection().connection.driver_connection
    assert driver is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[column]) if is_json else row[column]
                        for column, is_json in zip(columns, as_json, strict=True)
                    ]
                )
    except psycopg.IntegrityError as error:
        # as the INSERT path raises it: callers catch SQLAlchemy's (a concurrent upload of
        # the same key is a 409, not a 500)
        raise IntegrityError(statement, None, error) from error
