"""Shared bench plumbing: a fresh PostgreSQL database at head, timers, memory."""

from __future__ import annotations

import os
import resource
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import migrate
from app.auth.principal import Principal
from app.institutions import maintenance
from app.institutions.schemas import FundLedgerIn, PolicyIn, RegionIn

BENCH_ADMIN = Principal(None, "bench", "admin")

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


def seed_region(
    session: Session, region: str, insutypes: tuple[str, ...], count: int, now: datetime
) -> None:
    """A region with its fund ledgers (default policy from 2026-01-01) and `count`
    institutions H00000… inserted set-based (enrollments are the caller's)."""
    maintenance.create_region(
        session, RegionIn(code=region, name="银川市"), actor=BENCH_ADMIN, now=now
    )
    for insutype in insutypes:
        fund = maintenance.create_fund_ledger(
            session,
            FundLedgerIn(
                region_code=region,
                insutype=insutype,
                name=f"基金 {insutype}",
                expenditure_account="95588001",
                expenditure_account_name="支出户",
            ),
            actor=BENCH_ADMIN,
            now=now,
        )
        maintenance.add_policy_version(
            session, fund, PolicyIn(effective_from=date(2026, 1, 1)), actor=BENCH_ADMIN, now=now
        )
    if not count:
        return
    session.execute(
        text(
            "INSERT INTO institution (code, name, level, region_code, bank_account,"
            " bank_account_name, bank_code, med_type_prefixes)"
            " SELECT 'H' || lpad(g::text, 5, '0'), 'H', 3, :region, '6222000000000001', 'H',"
            " '102871000011', '[\"2\"]' FROM generate_series(0, :n - 1) g"
        ),
        {"n": count, "region": region},
    )
