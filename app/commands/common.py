"""What the command groups of the command line share: the refusals, the database of a command,
the actor (moved out of app/cli.py as they were)."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.auth.principal import Principal
from app.config import get_settings
from app.db import make_engine, make_sessionmaker
from app.jobcontext import JobContext

NOT_MIGRATED = "database not migrated — run `fundledger db upgrade`"
_OPTIONS = {"debug": False}


class CliError(Exception):
    """A refusal told in one line (exit 1); the message says what to do."""


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _existing_engine(url: str) -> Engine:
    """An engine on a database that exists and is migrated: a command other than `serve`
    and `db upgrade` never creates a database file (SQLite would, on first connect)."""
    parsed = make_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not database.startswith("file:") and not Path(database).exists():
        raise CliError(
            f"no database at {database} — set FUNDLEDGER_DATABASE_URL "
            "(the demo's: sqlite:///fundledger-demo.db) or create it with "
            "`fundledger db upgrade`"
        )
    from app.migrate import is_at_head

    engine = make_engine(url)
    with engine.connect() as connection:
        if not is_at_head(connection):
            engine.dispose()
            raise CliError(f"{NOT_MIGRATED} ({_safe_url(url)})")
    return engine


def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(_existing_engine(get_settings().database_url))


def _cli_principal() -> Principal:
    return Principal(user_id=None, name=_actor(), role="admin")


def _job_context() -> JobContext:
    from app.bank.gateway import HttpBankGateway
    from app.clock import SystemClock

    settings = get_settings()
    engine = _existing_engine(settings.database_url)
    clock = SystemClock()
    gateway = HttpBankGateway.from_settings(settings, clock)
    return JobContext(
        session_factory=make_sessionmaker(engine),
        engine=engine,
        clock=clock,
        settings=settings,
        gateway=gateway,
    )


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from None
