"""A hospital's world for the console tests, played through the real services.

`world()` is a scenario (SCENARIOS.md) of March and April 2026 in region 640100: H001 (both
insurance types) and H002 (310); settlements every few days, a revocation after batching, a
failed and a returned daily payment of H001, audits (one final, one appealed and reviewed, two
still open to appeal at the end), a procurement advance. Reconciliation, declaration and
approval are automatic, confirmation is not: at the end (2026-05-07 00:00) March's statements
are computed and await the hospital, April has ended and is not declared yet (its declaration
window opens on the 10th).

`build(url)` plays it into an empty database and adds what a two-month scenario cannot
produce: passwords for the people and two stored annual clearings of 2025 (COMPUTED, with
components that add up), one per hospital. `copy_of(template)` clones a built world for one
test (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.annual.models import AnnualClearing
from app.auth import logins
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker, transaction
from app.main import create_app
from app.monthly.models import AuditItem, MonthlyStatement
from app.scenarios import runner
from app.scenarios.model import Scenario
from app.settlements.models import Settlement
from tests.support import databases
from tests.support.builders import ADMIN

PASSWORD = "console-pass-1"
END = date(2026, 5, 7)
# Where the served world's clock stands: the end day, 10:00 in Shanghai.
NOW = datetime(2026, 5, 7, 2, 0, tzinfo=UTC)
PEOPLE = {
    "h1": "scenario-H001",
    "h2": "scenario-H002",
    "acc": "scenario-accountant",
    "op": "scenario-operator",
    "aud": "scenario-auditor",
}
H001 = "宁夏测试医院"
H002 = "另一家医院"


def _institution(code: str, name: str, level: int, insutypes: list[str], n: int) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "level": level,
        "region": "640100",
        "insutypes": insutypes,
        "bank_account": f"622200000000000{n}",
        "bank_account_name": name,
        "bank_code": "102871000011",
    }


def _settlement(code: str, setl_id: str, day: date, hifp: str, insutype: str = "310") -> Any:
    return {
        "at": f"{day}T10:30:00+08:00",
        "type": "settlement",
        "data": {
            "fixmedins_code": code,
            "setl_id": setl_id,
            "psn_no": f"P{setl_id}",
            "insutype": insutype,
            "med_type": "21",
            "insuplc_admdvs": "640104",
            "setl_time": f"{day}T09:15:00+08:00",
            "medfee_sumamt": str(Decimal(hifp) * 2),
            "hifp_pay": hifp,
        },
    }


def _event(day: str, kind: str, **data: Any) -> dict[str, Any]:
    return {"at": f"{day}+08:00", "type": kind, "data": data}


# H001 310: (setl_id, day, fund amount)
H001_310 = [
    ("S0302", date(2026, 3, 2), "10000.00"),
    ("S0303", date(2026, 3, 3), "3333.33"),
    ("S0306", date(2026, 3, 6), "20000.00"),
    ("S0307", date(2026, 3, 7), "0.01"),
    ("S0310", date(2026, 3, 10), "8000.00"),
    ("S0316", date(2026, 3, 16), "12500.00"),
    ("S0323", date(2026, 3, 23), "6400.00"),
    ("S0330", date(2026, 3, 30), "4200.50"),
    ("S0408", date(2026, 4, 8), "9000.00"),
    ("S0415", date(2026, 4, 15), "15000.00"),
    ("S0422", date(2026, 4, 22), "7300.00"),
    ("S0428", date(2026, 4, 28), "5600.00"),
]
H001_390 = [
    ("R0305", date(2026, 3, 5), "3000.00"),
    ("R0318", date(2026, 3, 18), "4500.00"),
    ("R0413", date(2026, 4, 13), "2800.00"),
]
H002_310 = [
    ("T0304", date(2026, 3, 4), "5000.00"),
    ("T0319", date(2026, 3, 19), "7000.00"),
    ("T0420", date(2026, 4, 20), "6100.00"),
]


def world() -> dict[str, Any]:
    events = [_settlement("H001", setl_id, day, amount) for setl_id, day, amount in H001_310]
    events += [_settlement("H001", s, d, a, "390") for s, d, a in H001_390]
    events += [_settlement("H002", s, d, a) for s, d, a in H002_310]
    events += [
        _event(
            "2026-03-10T16:00:00",
            "revoke",
            fixmedins_code="H001",
            setl_id="S0303",
            reason="结算信息有误",
        ),
        _event(
            "2026-03-20T10:00:00",
            "audit",
            fixmedins_code="H001",
            setl_id="S0302",
            rule_code="ZNSH-001",
            amount="800.00",
            reason="超标准收费",
        ),
        _event(
            "2026-03-23T10:00:00",
            "audit",
            fixmedins_code="H001",
            setl_id="S0306",
            rule_code="ZNSH-014",
            amount="1200.00",
            reason="重复收费",
        ),
        _event(
            "2026-03-24T10:00:00",
            "appeal",
            fixmedins_code="H001",
            setl_id="S0306",
            rule_code="ZNSH-014",
            reason="同日两次检查，医嘱齐全",
        ),
        _event(
            "2026-03-30T10:00:00",
            "review",
            fixmedins_code="H001",
            setl_id="S0306",
            rule_code="ZNSH-014",
            amount="300.00",
            final=True,
        ),
        _event(
            "2026-04-01T10:00:00",
            "procurement_advance",
            fixmedins_code="H001",
            insutype="310",
            period="2026-03",
            amount="1000.00",
            reference="ADV-2026-03-H001",
        ),
        _event(
            "2026-04-29T10:00:00",
            "audit",
            fixmedins_code="H001",
            setl_id="S0408",
            rule_code="ZNSH-021",
            amount="500.00",
            reason="超医保支付范围",
        ),
        _event(
            "2026-04-29T10:05:00",
            "audit",
            fixmedins_code="H001",
            setl_id="S0415",
            rule_code="ZNSH-003",
            amount="650.00",
            reason="分解住院",
        ),
        _event(
            "2026-04-29T10:10:00",
            "audit",
            fixmedins_code="H002",
            setl_id="T0420",
            rule_code="ZNSH-003",
            amount="200.00",
            reason="分解住院",
        ),
    ]
    events.sort(key=lambda event: event["at"])
    return {
        "name": "hospital-console-world",
        "start": "2026-03-01",
        "end": END.isoformat(),
        "auto": {"reconcile": True, "declare": True, "approve": True, "confirm": False},
        "regions": [{"code": "640100", "name": "银川市"}],
        "funds": [
            {"region": "640100", "insutype": t, "effective_from": "2026-01-01"}
            for t in ("310", "390")
        ],
        "institutions": [
            _institution("H001", H001, 3, ["310", "390"], 1),
            _institution("H002", H002, 2, ["310"], 2),
        ],
        "bank": [
            {
                "fixmedins_code": "H001",
                "kind": "daily",
                "pay_date": "2026-03-11",
                "status": "FAILED",
                "reason": "收款账户状态异常",
            },
            {
                "fixmedins_code": "H001",
                "kind": "daily",
                "insutype": "310",
                "pay_date": "2026-03-17",
                "status": "RETURNED",
                "reason": "收款账户已销户",
            },
        ],
        "events": events,
    }


def _clearing(code: str, insutype: str) -> AnnualClearing:
    """A stored 2025 clearing whose components add up (display; not computed)."""
    approved, settled, held = 1_250_000_00, 1_180_000_00, 62_500_00
    forfeited = held - held * 6000 // 10000
    gross = approved - settled - forfeited
    return AnnualClearing(
        year=2025,
        region_code="640100",
        insutype=insutype,
        fixmedins_code=code,
        status="COMPUTED",
        version=1,
        approved_fund_fen=approved,
        clearing_amount_fen=approved,
        settled_fen=settled,
        deposit_held_fen=held,
        return_ratio_bp=6000,
        forfeited_fen=forfeited,
        gross_fen=gross,
        offset_fen=0,
        actual_fen=gross,
        base={"statements": [], "assessment": {"score": "85.00", "credit": "92.00"}},
        computed_at=datetime(2026, 2, 10, 18, 0, tzinfo=UTC),
        computed_by="system",
    )


def build(url: str) -> dict[str, Any]:
    """Play the world into an empty database at `url`; the ids the tests need."""
    result = runner.run(Scenario.model_validate(world()), url)
    assert result["rejected_events"] == [], result["rejected_events"]
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            for name in PEOPLE.values():
                logins.set_password(
                    session, name=name, password=PASSWORD, actor=ADMIN, now=NOW - timedelta(1)
                )
            for code in ("H001", "H002"):
                session.add(_clearing(code, "310"))
            session.flush()
            return _ids(session)
    finally:
        engine.dispose()


def _ids(session: Any) -> dict[str, Any]:
    def statement(code: str, insutype: str, period: str) -> int:
        return int(
            session.scalar(
                select(MonthlyStatement.id).where(
                    MonthlyStatement.fixmedins_code == code,
                    MonthlyStatement.insutype == insutype,
                    MonthlyStatement.period == period,
                )
            )
        )

    def settlement(code: str, setl_id: str) -> int:
        return int(
            session.scalar(
                select(Settlement.id).where(
                    Settlement.fixmedins_code == code, Settlement.setl_id == setl_id
                )
            )
        )

    def audit(code: str, setl_id: str) -> int:
        return int(
            session.scalar(
                select(AuditItem.id)
                .join(Settlement, Settlement.id == AuditItem.settlement_id)
                .where(Settlement.fixmedins_code == code, Settlement.setl_id == setl_id)
            )
        )

    clearings = dict(
        session.execute(select(AnnualClearing.fixmedins_code, AnnualClearing.id)).all()
    )
    return {
        "statement": statement("H001", "310", "2026-03"),
        "statement_390": statement("H001", "390", "2026-03"),
        "statement_other": statement("H002", "310", "2026-03"),
        "settlement": {s: settlement("H001", s) for s, _, _ in H001_310 + H001_390},
        "settlement_other": settlement("H002", "T0304"),
        "audit_open": audit("H001", "S0408"),
        "audit_open_2": audit("H001", "S0415"),
        "audit_final": audit("H001", "S0302"),
        "audit_other": audit("H002", "T0420"),
        "clearing": int(clearings["H001"]),
        "clearing_other": int(clearings["H002"]),
    }


@contextmanager
def copy_of(template_url: str) -> Iterator[str]:
    """A throw-away copy of a built world (its own database)."""
    parsed = make_url(template_url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        with tempfile.TemporaryDirectory(prefix="fundledger-world-") as folder:
            target = Path(folder) / "world.db"
            shutil.copyfile(parsed.database, target)
            yield f"sqlite:///{target}"
        return
    admin = _admin(template_url)
    name = f"{parsed.database}_c{next(_counter)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)


def _numbers() -> Iterator[int]:
    number = 0
    while True:
        number += 1
        yield number


_counter = _numbers()


@functools.cache
def template() -> tuple[str, dict[str, Any]]:
    """The world, built once per test process (12 s on SQLite), dropped at exit; tests take
    a `copy_of` it."""
    if databases.PG_URL is None:
        folder = tempfile.mkdtemp(prefix="fundledger-world-")
        databases.at_session_end(shutil.rmtree, folder, True)
        url = f"sqlite:///{Path(folder) / 'world.db'}"
        return url, build(url)
    parsed = make_url(databases.PG_URL)
    name = f"{parsed.database}_hworld_{os.getpid()}"
    admin = _admin(databases.PG_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    databases.at_session_end(_drop, admin, name)
    url = parsed.set(database=name).render_as_string(hide_password=False)
    return url, build(url)


def _admin(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database="postgres")
    return parsed.render_as_string(hide_password=False)


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class World:
    """A copy of the world served in process: a TestClient, its clock and database."""

    client: Any  # fastapi.testclient.TestClient
    clock: SimulatedClock
    factory: sessionmaker[Session]
    ids: dict[str, Any]


@contextmanager
def world_client() -> Iterator[World]:
    url, ids = template()
    with copy_of(url) as copy:
        engine = make_engine(copy)
        factory = make_sessionmaker(engine)
        clock = SimulatedClock(NOW)
        app = create_app(
            Settings(environment="test", database_url=copy), session_factory=factory, clock=clock
        )
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                yield World(client, clock, factory, ids)
        finally:
            engine.dispose()


def log_in(client: Any, name: str, password: str = PASSWORD) -> None:
    page = client.get("/console/login")
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found
    response = client.post(
        "/console/login",
        data={"name": PEOPLE.get(name, name), "password": password, "csrf_token": found[1]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
