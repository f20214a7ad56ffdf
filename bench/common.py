"""Shared bench plumbing: a fresh PostgreSQL database at head, timers, memory."""

from __future__ import annotations

import os
import resource
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from app import migrate

ADMIN_URL = os.environ.get(
    "FUNDLEDGER_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_postgres(keep: bool = False) -> Iterator[str]:
    name = f"fundledger_bench_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    text_url = url.render_as_string(hide_password=False)
    migrate.upgrade(text_url)
    try:
        yield text_url
    finally:
        if not keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
