"""`fundledger serve --demo`: a Ningxia demo — five pooling regions, a dozen institutions,
both funds — played from August to 20 October 2026 through the scenario runner (August's and
September's statements computed, confirmed, approved and paid), then served live with the
bank simulator, one token per role printed and one console login per role (a new password at
every start, printed once). Its books end on 20 October: a settlement of the
21st goes into the next batch to be built, which the README's tour builds, approves and pays.

The playing is the first thing every newcomer waits for: about 35 s of CPU (profiled: the
daily batches and submissions of ten fund ledgers a day, then the API calls of the actors);
so the demo plays the months its statements need, no more."""

from __future__ import annotations

import os
import random
import secrets
import socket
import sqlite3
import threading
import time as timer
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.clock import SHANGHAI

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEMO_DB = Path("fundledger-demo.db")
BANK_START_TIMEOUT_S = 15
# The roles the README's tour uses: environment variable -> demo user.
TOUR_USERS = {
    "ADMIN": "scenario-admin",
    "OPERATOR": "scenario-operator",
    "ACCOUNTANT": "scenario-accountant",
    "AUDITOR": "scenario-auditor",
    "HOSPITAL": "scenario-H640103",
}
# The console's people of the demo: the tour's users, the hospital finance officer first.
CONSOLE_USERS = ("HOSPITAL", "ACCOUNTANT", "OPERATOR", "AUDITOR", "ADMIN")
# A demo password: 16 letters and digits without the look-alikes (0/o/O, 1/i/l/I), about 92
# bits; made anew at every start, never a fixed one (the demo teaches no bad habit).
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"  # noqa: S105
PASSWORD_CHARS = 16
DEMO_START = date(2026, 8, 1)
DEMO_END = date(2026, 10, 21)  # exclusive: September computed, confirmed, approved, paid
SEED = 20260701
SUMMARY = "August to October 2026, five pooling regions, twelve hospitals, both funds"

REGIONS = [
    ("640100", "银川市"),
    ("640200", "石嘴山市"),
    ("640300", "吴忠市"),
    ("640400", "固原市"),
    ("640500", "中卫市"),
]
INSTITUTIONS = [
    ("H640101", "宁夏医科大学总医院", 3, "640100"),
    ("H640102", "宁夏回族自治区人民医院", 3, "640100"),
    ("H640103", "银川市第一人民医院", 3, "640100"),
    ("H640104", "银川市第二人民医院", 2, "640100"),
    ("H640201", "石嘴山市第一人民医院", 3, "640200"),
    ("H640202", "石嘴山市第二人民医院", 2, "640200"),
    ("H640301", "吴忠市人民医院", 3, "640300"),
    ("H640302", "青铜峡市人民医院", 2, "640300"),
    ("H640401", "固原市人民医院", 3, "640400"),
    ("H640402", "西吉县人民医院", 2, "640400"),
    ("H640501", "中卫市人民医院", 3, "640500"),
    ("H640502", "中宁县人民医院", 2, "640500"),
]


def scenario() -> dict[str, Any]:
    """The demo's scenario file (SCENARIOS.md format), seeded: the same every time."""
    rng = random.Random(SEED)  # noqa: S311 - demo data
    funds = [
        {
            "region": code,
            "insutype": insutype,
            "daily_ratio": "0.60",
            "deposit_rate": "0.05",
            "effective_from": "2026-01-01",
            "submission_time": "00:01",
            "cutoff_time": "23:59",
        }
        for code, _ in REGIONS
        for insutype in ("310", "390")
    ]
    institutions = [
        {
            "code": code,
            "name": name,
            "level": level,
            "region": region,
            "insutypes": ["310", "390"],
            "bank_account": f"62220{index:011d}",
            "bank_account_name": name,
            "bank_code": f"1028710000{index:02d}",
        }
        for index, (code, name, level, region) in enumerate(INSTITUTIONS, start=1)
    ]
    events: list[dict[str, Any]] = [
        {
            "at": f"{DEMO_START}T08:00:00+08:00",
            "type": "appropriation",
            "data": {"region": code, "insutype": insutype, "amount": "50000000.00"},
        }
        for code, _ in REGIONS
        for insutype in ("310", "390")
    ]
    day = DEMO_START
    number = 0
    while day < DEMO_END - timedelta(days=1):
        for code, _, level, region in INSTITUTIONS:
            for _ in range(rng.randint(0, 1 + (level == 3))):
                number += 1
                insutype = "310" if rng.random() < 0.6 else "390"
                hifp = rng.randint(2_000_00, 60_000_00)
                hifob = rng.randint(0, 8_000_00) if insutype == "310" and rng.random() < 0.3 else 0
                at = datetime.combine(
                    day, time(rng.randint(8, 19), rng.randint(0, 59)), tzinfo=SHANGHAI
                )
                events.append(
                    {
                        "at": (at + timedelta(minutes=3)).isoformat(),
                        "type": "settlement",
                        "data": {
                            "fixmedins_code": code,
                            "setl_id": f"JS{day:%Y%m%d}{number:05d}",
                            "psn_no": f"6401{number:08d}",
                            "insutype": insutype,
                            "med_type": "21",
                            "insuplc_admdvs": region[:4] + rng.choice(["00", "04", "05", "21"]),
                            "setl_time": at.isoformat(),
                            "medfee_sumamt": f"{(hifp + hifob) * 1.4 / 100:.2f}",
                            "hifp_pay": f"{hifp / 100:.2f}",
                            "hifob_pay": f"{hifob / 100:.2f}",
                        },
                    }
                )
                if rng.random() < 0.02:
                    events.append(
                        {
                            "at": (at + timedelta(hours=3)).isoformat(),
                            "type": "revoke",
                            "data": {
                                "fixmedins_code": code,
                                "setl_id": f"JS{day:%Y%m%d}{number:05d}",
                                "reason": "结算信息有误",
                            },
                        }
                    )
                elif rng.random() < 0.04:
                    audit_day = min(day + timedelta(days=12), DEMO_END - timedelta(days=2))
                    events.append(
                        {
                            "at": f"{audit_day}T10:00:00+08:00",
                            "type": "audit",
                            "data": {
                                "fixmedins_code": code,
                                "setl_id": f"JS{day:%Y%m%d}{number:05d}",
                                "rule_code": "ZNSH-001",
                                "amount": f"{rng.randint(100, 900)}.00",
                                "reason": "超标准收费",
                            },
                        }
                    )
        day += timedelta(days=1)
    events.sort(key=lambda event: event["at"])
    return {
        "name": "ningxia-demo",
        "start": DEMO_START.isoformat(),
        "end": DEMO_END.isoformat(),
        "auto": {"reconcile": True, "declare": True, "approve": True, "confirm": True},
        "regions": [{"code": code, "name": name} for code, name in REGIONS],
        "funds": funds,
        "institutions": institutions,
        "calendar": [],
        "bank": [
            {
                "fixmedins_code": "H640402",
                "kind": "daily",
                "pay_date": "2026-08-04",
                "status": "FAILED",
                "reason": "收款账户状态异常",
            }
        ],
        "annual_rules": [
            {
                "year": 2026,
                "assessment_bands": [
                    {"min_score": 90, "return_ratio": "1.00"},
                    {"min_score": 0, "return_ratio": "0.60"},
                ],
                "credit_bands": [{"min_score": 0, "return_ratio": "1.00"}],
            }
        ],
        "events": events,
    }


def url(path: Path = DEMO_DB) -> str:
    return f"sqlite:///{path.resolve()}"


def build(path: Path = DEMO_DB) -> str:
    """Play the demo into a fresh SQLite file; returns its URL. It is played into a side file
    and moved into place when complete, so an interrupted first start never leaves a
    half-played demo behind."""
    from app.scenarios import runner
    from app.scenarios.model import Scenario

    part = path.with_name(f"{path.name}.part")
    _remove(part)
    runner.run(Scenario.model_validate(scenario()), url(part))
    problems = check(url(part))
    if problems:
        raise RuntimeError(f"the demo's three flows disagree:\n{problems}")
    with closing(sqlite3.connect(part)) as connection:  # the whole database in one file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    _remove(path)
    os.replace(part, path)
    return url(path)


def check(database_url: str) -> str | None:
    """`fundledger check` on the played demo: None when the three flows agree (the bank's
    statements reconciled), else the report."""
    from app.db import make_engine, make_sessionmaker, transaction
    from app.threeflow import service as threeflow

    engine = make_engine(database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            report = threeflow.check(session)
        return None if report.ok else threeflow.render(report)
    finally:
        engine.dispose()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def tokens(database_url: str) -> dict[str, str]:
    """A new token per role of the tour (printed once); every earlier token of the demo
    database is revoked first, so only the printed ones work."""
    from sqlalchemy import select

    from app.auth import service as auth
    from app.auth.models import ApiToken
    from app.auth.principal import Principal
    from app.clock import SystemClock
    from app.db import make_engine, make_sessionmaker, transaction

    actor = Principal(None, "demo", "admin")
    now = SystemClock().now()
    engine = make_engine(database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            live = session.scalars(
                select(ApiToken.id).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
            ).all()
            for token_id in live:
                auth.revoke_token(session, token_id=token_id, actor=actor, now=now)
            return {
                role: auth.issue_token(session, name=name, actor=actor, now=now)[1]
                for role, name in TOUR_USERS.items()
            }
    finally:
        engine.dispose()


@dataclass(frozen=True)
class ConsoleLogin:
    """One console login of the demo, printed once at the start."""

    name: str
    role: str
    password: str
    institution: str | None  # the hospital's name, for a hospital user


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_CHARS))


def console_logins(database_url: str) -> list[ConsoleLogin]:
    """A new password per console person of the demo (printed once); see reset_logins."""
    from app.clock import SystemClock
    from app.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return reset_logins(session, now=SystemClock().now())
    finally:
        engine.dispose()


def reset_logins(session: Session, *, now: datetime) -> list[ConsoleLogin]:
    """Set a new password for each console person of the demo as `fundledger users passwd`
    sets one: the earlier demo passwords stop working, their sessions end, a lock is lifted;
    a person deactivated while exploring is active again."""
    from app.auth import logins
    from app.auth import service as auth
    from app.auth.principal import Principal
    from app.institutions.models import Institution

    actor = Principal(None, "demo", "admin")
    made = []
    for key in CONSOLE_USERS:
        name = TOUR_USERS[key]
        if not auth.get_user(session, name).active:
            auth.set_active(session, name=name, active=True, actor=actor, now=now)
        password = new_password()
        user = logins.set_password(session, name=name, password=password, actor=actor, now=now)
        hospital = session.get(Institution, user.fixmedins_code) if user.fixmedins_code else None
        made.append(ConsoleLogin(name, user.role, password, hospital.name if hospital else None))
    return made


def start_bank(secret: str, port: int) -> None:
    """The bank simulator on the real clock, delivering its callbacks once a second; returns
    when it accepts connections (RuntimeError when it could not start)."""
    from app.bank import simserver

    thread = threading.Thread(
        target=simserver.serve_forever,
        # results come back within a second, so the tour need not wait
        kwargs={"host": "127.0.0.1", "port": port, "secret": secret, "delay_minutes": 0},
        daemon=True,
    )
    thread.start()
    deadline = timer.monotonic() + BANK_START_TIMEOUT_S
    while timer.monotonic() < deadline and thread.is_alive():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            timer.sleep(0.1)
    raise RuntimeError(f"the bank simulator did not start on port {port}")
