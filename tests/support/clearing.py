"""A world for the individual clearing (SPEC-ASSISTANCE A9's region 640100): the assistance
world of tests/support/assistance.py (H001, the 610 fund), the scenario's stored assistance
policy (`POST /assistance/policies` with assistance-basic.json's), P1 (dibao + low_income)
and P2 (dibao) with bank accounts, an admin and a second accountant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.assistance import policy_source
from app.assistance.person_year import PersonYear, person_year
from app.clock import SimulatedClock
from app.money import yuan
from tests.support import builders
from tests.support.assistance import assistance_world
from tests.support.builders import bearer

BASE = "/api/v1/assistance"
SCENARIO = Path(__file__).parent.parent / "scenarios" / "assistance" / "assistance-basic.json"


def scenario_policy() -> dict[str, Any]:
    (policy,) = json.loads(SCENARIO.read_text(encoding="utf-8"))["assistance_policies"]
    return dict(policy)


def person(categories: list[str], *, valid_from: str = "2026-01-01") -> dict[str, Any]:
    return {
        "name": "张某",
        "certno": "640102198001011234",
        "region_code": "640100",
        "bank_account": "6222000000009001",
        "bank_account_name": "张某",
        "bank_code": "102871000011",
        "categories": [{"category": c, "valid_from": valid_from} for c in categories],
    }


def clearing_world(client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    headers = assistance_world(session)
    headers["acc2"] = bearer(builders.user_token(session, "acc2", "accountant"))
    session.commit()
    stored = client.post(f"{BASE}/policies", json=scenario_policy(), headers=headers["operator"])
    assert stored.status_code == 201, stored.text
    for psn_no, held in (("P1", ["dibao", "low_income"]), ("P2", ["dibao"])):
        put = client.put(
            f"{BASE}/recipients/{psn_no}", json=person(held), headers=headers["operator"]
        )
        assert put.status_code in (200, 201), put.text
    return headers


def at(clock: SimulatedClock, shanghai: str) -> None:
    """Move the clock to a Shanghai wall-clock time `YYYY-MM-DDTHH:MM`."""
    clock.set(datetime.fromisoformat(f"{shanghai}:00+08:00").astimezone(UTC))


def figures(session: Session, psn_no: str = "P1", year: int = 2026) -> tuple[str, str, str]:
    found = computed(session, psn_no, year)
    return yuan(found.due_fen), yuan(found.granted_fen), yuan(found.difference_fen)


def computed(session: Session, psn_no: str = "P1", year: int = 2026) -> PersonYear:
    session.expire_all()
    return person_year(session, psn_no, year, policy_source.policy_for_region(session, "640100"))
