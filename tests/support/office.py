"""A small world for the office pages (operator, auditor, admin): people of every role with
console passwords, two institutions, settlements with smart-audit results at each step, an
alert, an appropriation in the ledger. Built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.auth.principal import Principal
from app.ledger.models import JournalEntry
from app.monthly import audits
from app.treasury import service as treasury
from tests.support import builders
from tests.support.console import person
from tests.support.daily import settle

OPERATOR = Principal(user_id=None, name="op", role="operator")
HOSPITAL = Principal(user_id=None, name="h1", role="hospital", fixmedins_code="H001")
PEOPLE = {"hospital": "h1", "operator": "op", "accountant": "acc", "auditor": "aud", "admin": "adm"}
SEEDED = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai


@dataclass(frozen=True)
class World:
    alert_id: int
    entry_id: int
    appealed: tuple[str, str, str]  # an audit result waiting for review
    reviewed: tuple[str, str, str]  # one waiting for consultation


def world(session: Session) -> World:
    builders.institution(session, "H001", name="宁夏测试医院", insutypes=("310", "390"))
    builders.institution(session, "H002", name="另一家医院")
    for role, name in PEOPLE.items():
        person(session, name, role, "H001" if role == "hospital" else None)
    for number in range(1, 5):
        settle(session, "H001", f"S{number}", 500_000 * number, date(2026, 3, 2))
    settle(session, "H002", "S9", 80_000, date(2026, 3, 2))
    for setl_id in ("S1", "S2", "S3"):
        audits.record(
            session,
            code="H001",
            setl_id=setl_id,
            rule_code="R01",
            amount_fen=12_000,
            reason="超标准收费",
            actor=OPERATOR,
            now=SEEDED,
        )
    for setl_id in ("S1", "S2"):
        audits.appeal(session, "H001", setl_id, "R01", "已按规定收费", actor=HOSPITAL, now=SEEDED)
    audits.review(session, "H001", "S2", "R01", 6_000, False, actor=OPERATOR, now=SEEDED)
    alert = alerts.raise_alert(
        session,
        kind="calendar_unconfirmed",
        subject="2027",
        detail="the official schedule of 2027 is not confirmed",
        now=SEEDED,
    )
    treasury.appropriate(
        session,
        region_code="640100",
        insutype="310",
        amount_fen=50_000_000_00,
        reference="BK-2026-001",
        actor=Principal(user_id=None, name="acc", role="accountant"),
        now=SEEDED,
    )
    entry_id = session.scalar(select(JournalEntry.id).where(JournalEntry.kind == "appropriation"))
    assert entry_id is not None
    session.commit()
    return World(
        alert_id=alert.id,
        entry_id=entry_id,
        appealed=("H001", "S1", "R01"),
        reviewed=("H001", "S2", "R01"),
    )
