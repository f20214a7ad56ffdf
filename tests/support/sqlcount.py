"""Counting the SQL statements a piece of work sends (issue 20: set-based SQL for work over
many rows, never a Python loop of single-row queries)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


@contextmanager
def sql_statements(session: Session) -> Iterator[list[str]]:
    """The statements sent through the session's engine while the block runs (its own
    connection or a test client's)."""
    seen: list[str] = []
    engine = session.get_bind()

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
