"""The person-year over stored data (SPEC-ASSISTANCE A4, A7, A9, A10; issue 22 item 3): A9's
due figures reproduced from stored settlements, holdings and deductions with A9's policy as a
pure Policy; items are the person's unrevoked settlements on or after the 610 switch-on (maf_pay
0 included), a revoked one takes its deductions out; granted is Σ maf_pay; reads are
set-based; the API shows it to staff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.assistance import policy_source
from app.assistance.person_year import PersonYear, person_year, versions_for
from app.assistance.policy import Policy, policy_in_force
from app.clock import SimulatedClock
from app.money import to_fen, yuan
from tests.support.assistance import (
    A9_POLICY,
    DIBAO,
    a9_policy,
    a9_settlements,
    assistance_world,
    settle,
)

DEDUCTIONS = "/api/v1/assistance/deductions"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    return assistance_world(session)


def _p1(session: Session) -> PersonYear:
    session.expire_all()
    return person_year(session, "P1", 2026, a9_policy)


def _figures(found: PersonYear) -> tuple[str, str, str]:
    return yuan(found.due_fen), yuan(found.granted_fen), yuan(found.difference_fen)


def _deduct(client: TestClient, headers: dict, reference: str, **fields: Any) -> None:
    body = {"reference": reference, "psn_no": "P1", **fields}
    response = client.post(DEDUCTIONS, json=body, headers=headers["operator"])
    assert response.status_code == 201, response.text


def test_a9_rows_1_2_4_and_7_from_stored_data(
    client: TestClient, session: Session, headers: dict
) -> None:
    h = headers
    settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
           hifmi="2000.00", maf="8000.00")  # fmt: skip
    row_1 = _p1(session)
    assert _figures(row_1) == ("8000.00", "8000.00", "0.00")  # dibao 8,000.00
    (s1,) = row_1.result.items
    assert dict(s1.options) == {DIBAO: to_fen("8000.00"), "low_income": to_fen("6300.00")}
    settle(client, h, "S2", "2026-05-20", inscp="40000.00", hifp="22000.00",
           hifmi="3000.00", maf="12000.00")  # fmt: skip
    assert _figures(_p1(session)) == ("20500.00", "20000.00", "500.00")  # row 2
    _deduct(client, h, "D-CI-1", type="critical_illness", amount="2000.00",
            fixmedins_code="H001", setl_id="S1")  # fmt: skip
    row_4 = _p1(session)
    # granted here is maf_pay only: row 3's top-up of 500.00 is a clearing (part 2)
    assert _figures(row_4) == ("18700.00", "20000.00", "-1300.00")
    assert [(i.key, i.base_fen, i.amount_fen) for i in row_4.result.items] == [
        ("S:H001:S1", to_fen("8000.00"), to_fen("6400.00")),
        ("S:H001:S2", to_fen("15000.00"), to_fen("12300.00")),
    ]
    _deduct(client, h, "D-BR-1", type="burden_relief", amount="1000.00", year=2026)
    row_7 = _p1(session)
    # Without A1's invoice (applications come with part 2) the relief spreads over 8,000 /
    # 15,000: S1 347.83, S2 652.17; S1 7,652.17 → 6,121.74; S2 14,347.83 over
    # [7,652.17, 22,000.00): 12,347.83 × 80 % + 2,000.00 × 90 % = 11,678.264 → 11,678.26.
    # (A9's 18,412.51 includes A1's 575.00 and A1's share of the relief.)
    assert [(i.relief_fen, i.base_fen, i.amount_fen) for i in row_7.result.items] == [
        (to_fen("347.83"), to_fen("7652.17"), to_fen("6121.74")),
        (to_fen("652.17"), to_fen("14347.83"), to_fen("11678.26")),
    ]
    assert _figures(row_7) == ("17800.00", "20000.00", "-2200.00")
    assert [(r.reference, counts) for r, counts in row_7.deductions] == [
        ("D-CI-1", True),
        ("D-BR-1", True),
    ]


def test_items_are_unrevoked_settlements_from_the_switch_on_zero_maf_included(
    client: TestClient, session: Session, headers: dict
) -> None:
    h = headers
    # before the 610 fund of 640100 was switched on (2026-02-01): no item
    settle(client, h, "S0", "2026-01-20", inscp="5000.00", hifp="1000.00")
    a9_settlements(client, h)
    # a settlement without assistance (maf_pay 0) is an item all the same
    settle(client, h, "S3", "2026-06-01", inscp="1000.00", hifp="0.00")
    found = _p1(session)
    assert [item.key for item in found.result.items] == ["S:H001:S1", "S:H001:S2", "S:H001:S3"]
    assert found.result.items[2].amount_fen == to_fen("900.00")  # above 20,000.00: 90 %
    assert _figures(found) == ("21400.00", "20000.00", "1400.00")
    _deduct(client, h, "D-S2", type="mutual_aid", amount="100.00", fixmedins_code="H001",
            setl_id="S2")  # fmt: skip
    revoked = client.post(
        "/api/v1/settlements/H001/S2/revoke", json={"reason": "撤销"}, headers=h["H001"]
    )
    assert revoked.status_code == 201, revoked.text
    after = _p1(session)
    assert [item.key for item in after.result.items] == ["S:H001:S1", "S:H001:S3"]
    assert [(r.reference, counts) for r, counts in after.deductions] == [("D-S2", False)]
    # S1 8,000.00; S3 over [10,000, 11,000): 800.00; granted: S1's maf_pay only
    assert _figures(after) == ("8800.00", "8000.00", "800.00")
    # another year has none of them
    assert _figures(person_year(session, "P1", 2025, a9_policy)) == ("0.00", "0.00", "0.00")


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_reads_are_set_based_not_per_item(
    client: TestClient, session: Session, headers: dict
) -> None:
    settle(client, headers, "T1", "2026-03-01", inscp="100.00", hifp="0.00", psn_no="P2")
    session.expire_all()
    with _statements(session) as one_item:
        assert len(person_year(session, "P2", 2026, a9_policy).result.items) == 1
    for number in range(2, 13):
        settle(client, headers, f"T{number}", f"2026-03-{number:02d}", inscp="100.00",
               hifp="0.00", psn_no="P2")  # fmt: skip
    session.expire_all()
    with _statements(session) as twelve_items:
        found = person_year(session, "P2", 2026, a9_policy)
    assert len(found.result.items) == 12
    assert found.due_fen == to_fen("960.00")  # 1,200.00 × dibao inpatient 80 %
    assert len(twelve_items) == len(one_item)


def test_versions_follow_the_provider_day_by_day() -> None:
    """The provider's answer is what each item's day gets, gaps (None) included."""
    later = Policy(effective_from=date(2026, 6, 1))
    answers = {date(2026, 3, 1): A9_POLICY, date(2026, 7, 1): None, date(2026, 9, 1): A9_POLICY}
    calls: list[date] = []

    def provider(day: date) -> Policy | None:
        calls.append(day)
        return answers.get(day, later)

    days = [*answers, date(2026, 3, 1), date(2026, 6, 15)]
    versions = versions_for(days, provider)
    for day in days:
        expected = provider(day)
        chosen = policy_in_force(versions, day)
        assert chosen is not None
        assert chosen.rules == (expected.rules if expected else {})
    assert len(calls) == len(days) + 4  # one call per distinct day in versions_for


def test_api_person_year_for_staff(client: TestClient, session: Session, headers: dict) -> None:
    _store_a9_policy(client, headers)
    a9_settlements(client, headers)
    _deduct(client, headers, "D-CI-1", type="critical_illness", amount="2000.00",
            fixmedins_code="H001", setl_id="S1")  # fmt: skip
    url = "/api/v1/assistance/persons/P1/years/2026"
    response = client.get(url, headers=headers["auditor"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["due"], body["granted"], body["difference"]) == (
        "18700.00",
        "20000.00",
        "-1300.00",
    )
    assert body["granted_parts"] == {
        "maf_pay": "20000.00",
        "applications": "0.00",
        "clearings": "0.00",
    }
    first = body["items"][0]
    assert {k: first[k] for k in ("key", "date", "visit", "gross_base", "deducted", "relief")} == {
        "key": "S:H001:S1",
        "date": "2026-03-10",
        "visit": "inpatient",
        "gross_base": "10000.00",
        "deducted": "2000.00",
        "relief": "0.00",
    }
    assert (first["base"], first["category"], first["amount"], first["maf_pay"]) == (
        "8000.00",
        "dibao",
        "6400.00",
        "8000.00",
    )
    assert body["deductions"] == [
        {
            "reference": "D-CI-1",
            "type": "critical_illness",
            "item_key": "S:H001:S1",
            "amount": "2000.00",
            "counted": True,
        }
    ]
    assert client.get(url, headers=headers["H001"]).status_code == 403
    missing = client.get("/api/v1/assistance/persons/P9/years/2026", headers=headers["operator"])
    assert missing.status_code == 404
    assert client.get(url[:-4] + "1999", headers=headers["operator"]).status_code == 422


def _store_a9_policy(client: TestClient, headers: dict) -> None:
    """A9's policy as the public assistance scenario states it, stored through the API."""
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "assistance"
    body = json.loads((scenario / "assistance-basic.json").read_text(encoding="utf-8"))
    stored = client.post(
        "/api/v1/assistance/policies",
        json=body["assistance_policies"][0],
        headers=headers["operator"],
    )
    assert stored.status_code == 201, stored.text


def test_the_provider_reads_the_stored_versions(
    client: TestClient, session: Session, headers: dict
) -> None:
    assert policy_source.policy_for_region(session, "640100")(date(2026, 3, 10)) is None
    _store_a9_policy(client, headers)
    session.expire_all()
    provider = policy_source.policy_for_region(session, "640100")
    assert provider(date(2025, 12, 31)) is None
    in_force = provider(date(2026, 3, 10))
    assert in_force is not None and in_force.effective_from == date(2026, 1, 1)
    assert in_force.rules == a9_policy(date(2026, 3, 10)).rules  # type: ignore[union-attr]
