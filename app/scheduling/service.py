"""Job runs: claim (unique per job and business date), finish, list; cross-process locks."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.scheduling.models import JobRun
from app.scheduling.rules import RUN, RunStatus, finished

log = logging.getLogger("fundledger.jobs")

DETAIL_CHARS_MAX = 2000


def claim(
    factory: sessionmaker[Session],
    job_name: str,
    business_date: date | None,
    *,
    runner: str,
    now: datetime,
    again: bool = False,
) -> int | None:
    """Record the start of a run; None when that (job, date) already succeeded or runs.

    The usual case is one INSERT (the unique index decides); a failed run is retried, a run
    left RUNNING by a stopped process is taken over, and a succeeded one is run again when
    asked to (jobs are idempotent: an operator may). Callers hold the job's lock."""
    row = JobRun(
        job_name=job_name,
        business_date=business_date,
        status=RunStatus.RUNNING,
        attempts=1,
        started_at=now,
        runner=runner,
    )
    try:
        with transaction(factory) as session:
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        pass
    with transaction(factory) as session:
        existing = session.scalar(
            select(JobRun)
            .where(JobRun.job_name == job_name, JobRun.business_date == business_date)
            .with_for_update()
        )
        if existing is None:
            return None
        # The caller holds the job's cross-process lock (run_job, catch-up), so a run still
        # marked RUNNING is one whose process stopped mid-run: it is taken over (jobs are
        # idempotent, each step one transaction), never left blocking its date forever.
        if existing.status == RunStatus.SUCCEEDED and not again:
            return None
        RUN.check(existing.status, RunStatus.RUNNING)
        existing.status = RunStatus.RUNNING
        existing.attempts += 1
        existing.started_at = now
        existing.runner = runner
        existing.finished_at = None
        return existing.id


def finish(
    factory: sessionmaker[Session], run_id: int, *, ok: bool, detail: Any, now: datetime
) -> None:
    with transaction(factory) as session:
        row = session.get(JobRun, run_id)
        assert row is not None
        status = finished(ok)
        if row.status != RunStatus.RUNNING:
            # A process whose run was taken over (its lock connection dropped) finishes after
            # the one that took over: its result is recorded, the last word, as it always was
            # (RUNNING → SUCCEEDED/FAILED, the table's only moves here, need no check).
            log.warning("job run %s finished again (%s, was %s)", run_id, status, row.status)
        row.status = status
        row.finished_at = now
        row.detail = _trim(detail)


def _trim(detail: Any) -> Any:
    text_form = str(detail)
    if len(text_form) > DETAIL_CHARS_MAX:
        return {"summary": text_form[:DETAIL_CHARS_MAX]}
    return detail


def last_succeeded(session: Session, job_name: str) -> date | None:
    return session.scalar(
        select(func.max(JobRun.business_date)).where(
            JobRun.job_name == job_name, JobRun.status == RunStatus.SUCCEEDED
        )
    )


def last_run(session: Session, job_name: str) -> JobRun | None:
    return session.scalar(
        select(JobRun).where(JobRun.job_name == job_name).order_by(JobRun.id.desc()).limit(1)
    )


def runs(session: Session, job_name: str | None, limit: int) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_name:
        query = query.where(JobRun.job_name == job_name)
    return list(session.scalars(query))


@contextmanager
def job_lock(engine: Engine, job_name: str) -> Iterator[bool]:
    """Only one process runs a job at a time: a PostgreSQL advisory lock (held on its own
    connection for the run), a file lock beside the SQLite database. Yields False when
    another process holds it."""
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(f"fundledger:{job_name}".encode()).digest()[:8], "big", signed=True
        )
        with engine.connect() as connection:
            acquired = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            )
            connection.commit()
            try:
                yield acquired
            finally:
                if acquired:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
        return
    database = engine.url.database
    folder = (
        Path(database).resolve().parent
        if database and database != ":memory:"
        else Path(tempfile.gettempdir())
    )
    path = folder / f".fundledger-{job_name}.lock"
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
