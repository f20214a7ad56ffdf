"""Monthly partitions of `settlement` on PostgreSQL (issue 20.4, migration 0032).

`settlement` is partitioned by range of `period` ('YYYY-MM'): one partition per month,
`settlement_YYYY_MM`, and `settlement_default` for a period that has none yet. The
`settlement_partitions` job creates the months around the business date ahead of the
uploads (last month, this month, the next two) and gives every period found in the default
partition its own, moving its rows there, so the default stays empty and every period's
settlements sit in their own month. SQLite keeps a plain table: nothing to do.

Creating a partition locks `settlement` (ACCESS EXCLUSIVE) for the moment it takes; moving
rows out of the default partition (only after a period arrived with no partition ready)
holds it while they are copied. The job runs at 00:05, before the daily batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.clock import period_add, period_of
from app.db import is_postgres

DEFAULT = "settlement_default"
# the partitions' own names (alembic's model comparison leaves them out: migrations/env.py)
PARTITION_NAME = re.compile(r"settlement_(default|\d{4}_\d{2})")
MONTHS_BEHIND = 1
MONTHS_AHEAD = 2
LOCK_TIMEOUT_MS = 10_000


def table_name(period: str) -> str:
    return f"settlement_{period[:4]}_{period[5:7]}"


def months_around(day: date) -> list[str]:
    """The periods whose partitions should exist on a business date."""
    return [period_add(period_of(day), n) for n in range(-MONTHS_BEHIND, MONTHS_AHEAD + 1)]


def existing(session: Session) -> set[str]:
    """The periods that have a partition of their own."""
    names = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'settlement'::regclass"
        )
    ).scalars()
    return {
        f"{name[11:15]}-{name[16:18]}"
        for name in names
        if name != DEFAULT and PARTITION_NAME.fullmatch(name)
    }


def ensure(session: Session, periods: Iterable[str]) -> list[str]:
    """Create the partitions of `periods` and of every period held in the default
    partition that are missing, moving those rows; the periods created, in order. Part of
    the caller's transaction."""
    if not is_postgres(session):
        return []
    wanted = {_checked(period) for period in periods}
    if not _missing(session, wanted)[0]:
        return []  # the usual day: no lock taken
    # Creating a partition locks the whole table; waiting for the lock behind a long read
    # would queue every upload behind this job: give up instead (the default partition takes
    # the rows meanwhile, the next run tries again).
    session.execute(text(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_MS)}ms'"))
    session.execute(text("LOCK TABLE settlement IN ACCESS EXCLUSIVE MODE"))
    missing, stranded = _missing(session, wanted)
    moving = [period for period in missing if period in stranded]
    if moving:
        # The default partition holds rows of these periods: their partitions cannot be
        # created beside them. Take it out, create the months, move its rows, put it back
        # (its ATTACH checks every row left in it once).
        session.execute(text(f"ALTER TABLE settlement DETACH PARTITION {DEFAULT}"))
    for period in missing:
        bounds = f"FROM ('{_checked(period)}') TO ('{period_add(period, 1)}')"
        session.execute(
            text(f"CREATE TABLE {table_name(period)} PARTITION OF settlement FOR VALUES {bounds}")
        )
    for period in moving:
        of_period = f"period >= '{period}' AND period < '{period_add(period, 1)}'"
        session.execute(
            text(f"INSERT INTO {table_name(period)} SELECT * FROM {DEFAULT} WHERE {of_period}")
        )
        session.execute(text(f"DELETE FROM {DEFAULT} WHERE {of_period}"))
    if moving:
        session.execute(text(f"ALTER TABLE settlement ATTACH PARTITION {DEFAULT} DEFAULT"))
    return missing


def _missing(session: Session, wanted: set[str]) -> tuple[list[str], set[str]]:
    """The periods to create (wanted or held in the default partition, without a partition
    of their own), and those held in the default partition."""
    stranded = set(session.execute(text(f"SELECT DISTINCT period FROM {DEFAULT}")).scalars())
    return sorted((wanted | stranded) - existing(session)), stranded


def _checked(period: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValueError(f"not a period (YYYY-MM): {period!r}")
    return period
