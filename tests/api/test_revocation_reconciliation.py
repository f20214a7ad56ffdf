"""Revocations, settlement lists, reconciliation and the period rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.clock import SimulatedClock
from app.monthly.models import AuditItem
from app.settlements import service as settlements
from app.settlements.models import PeriodState, Settlement
from tests.support.intake import record, world


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    return world(session)


def _upload(client: TestClient, headers: dict, setl_id: str, **overrides: object) -> dict:
    response = client.post(
        "/api/v1/settlements", json=record(setl_id, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_revocation_is_once_and_its_own_record(client: TestClient, headers: dict) -> None:
    _upload(client, headers["H001"], "S1")
    url = "/api/v1/settlements/H001/S1/revoke"
    first = client.post(url, json={"reason": "结算信息有误"}, headers=headers["H001"])
    assert first.status_code == 201
    body = first.json()
    assert body["status"] == "revoked"
    assert body["revocation"]["period"] == "2026-03"
    assert body["fund_amount"] == "10000.00"  # the settlement itself is unchanged
    again = client.post(url, json={"reason": "another reason"}, headers=headers["H001"])
    assert again.status_code == 200 and again.json()["revocation"] == body["revocation"]
    assert (
        client.post(
            "/api/v1/settlements/H001/S9/revoke", json={"reason": "x"}, headers=headers["H001"]
        ).status_code
        == 404
    )
    assert client.post(url, json={}, headers=headers["H001"]).status_code == 422


def test_hospitals_cannot_touch_each_other(client: TestClient, headers: dict) -> None:
    _upload(client, headers["H002"], "B1", fixmedins_code="H002")
    assert client.get("/api/v1/settlements/H002/B1", headers=headers["H001"]).status_code == 404
    assert (
        client.post(
            "/api/v1/settlements/H002/B1/revoke", json={"reason": "x"}, headers=headers["H001"]
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/settlements/H002/B1/list", json={"list_no": "L1"}, headers=headers["H001"]
        ).status_code
        == 404
    )
    reconcile = {
        "fixmedins_code": "H002",
        "insutype": "310",
        "setl_date": "2026-03-06",
        "count": 1,
        "fund_amount": "10000.00",
    }
    assert (
        client.post("/api/v1/reconciliations", json=reconcile, headers=headers["H001"]).status_code
        == 404
    )
    days = client.get(
        "/api/v1/reconciliations",
        params={
            "fixmedins_code": "H002",
            "insutype": "310",
            "from": "2026-03-01",
            "to": "2026-03-31",
        },
        headers=headers["H001"],
    )
    assert days.status_code == 404
    assert client.get("/api/v1/settlements/H002/B1", headers=headers["H002"]).status_code == 200


def test_settled_with_audit_results_cannot_be_revoked(
    client: TestClient, headers: dict, session: Session, clock: SimulatedClock
) -> None:
    body = _upload(client, headers["H001"], "S1")
    settlement = session.query(Settlement).filter_by(setl_id="S1").one()
    session.add(
        AuditItem(
            settlement_id=settlement.id,
            fixmedins_code="H001",
            insutype="310",
            period=body["period"],
            rule_code="R1",
            reason="x",
            initial_amount_fen=100,
            result_date=date(2026, 3, 6),
            appeal_deadline=date(2026, 3, 13),
            status="INITIAL",
            created_at=clock.now(),
            created_by="op",
        )
    )
    session.commit()
    response = client.post(
        "/api/v1/settlements/H001/S1/revoke", json={"reason": "x"}, headers=headers["H001"]
    )
    assert response.status_code == 409 and "audit" in response.json()["detail"]


def test_settlement_list_is_idempotent(client: TestClient, headers: dict) -> None:
    _upload(client, headers["H001"], "S1")
    url = "/api/v1/settlements/H001/S1/list"
    assert client.post(url, json={"list_no": "QD001"}, headers=headers["H001"]).status_code == 201
    again = client.post(url, json={"list_no": "QD001"}, headers=headers["H001"])
    assert again.status_code == 200 and again.json()["list_no"] == "QD001"
    assert client.post(url, json={"list_no": "QD002"}, headers=headers["H001"]).status_code == 409


def _reconcile(client: TestClient, headers: dict, day: str, count: int, fund: str, **extra: object):  # type: ignore[no-untyped-def]
    body = {
        "fixmedins_code": "H001",
        "insutype": "310",
        "setl_date": day,
        "count": count,
        "fund_amount": fund,
        **extra,
    }
    return client.post("/api/v1/reconciliations", json=body, headers=headers)


def _days(client: TestClient, headers: dict) -> dict[str, tuple]:
    rows = client.get(
        "/api/v1/reconciliations",
        params={
            "fixmedins_code": "H001",
            "insutype": "310",
            "from": "2026-03-01",
            "to": "2026-03-31",
        },
        headers=headers,
    ).json()
    return {r["setl_date"]: (r["held_count"], r["held_fund_amount"], r["status"]) for r in rows}


def test_reconciliation_counts_revocations_on_their_own_date(
    client: TestClient, headers: dict, clock: SimulatedClock
) -> None:
    h = headers["H001"]
    _upload(client, h, "S1")  # 03-06, 10,000.00
    _upload(client, h, "S2", hifp_pay="3333.33", hifob_pay="0.00")
    assert _days(client, h) == {"2026-03-06": (2, "13333.33", "UNRECONCILED")}
    result = _reconcile(client, h, "2026-03-06", 2, "13333.33")
    assert result.status_code == 201 and result.json()["status"] == "RECONCILED"
    clock.set(datetime(2026, 3, 10, 7, 0, tzinfo=UTC))  # 15:00 on the 10th
    _upload(
        client,
        h,
        "S4",
        setl_time="2026-03-10T09:25:00+08:00",
        hifp_pay="18000.00",
        hifob_pay="2000.00",
        medfee_sumamt="26000.00",
    )
    client.post("/api/v1/settlements/H001/S2/revoke", json={"reason": "x"}, headers=h)
    days = _days(client, h)
    assert days["2026-03-06"] == (2, "13333.33", "RECONCILED")  # the revocation counts on 03-10
    assert days["2026-03-10"] == (0, "16666.67", "UNRECONCILED")
    wrong = _reconcile(client, h, "2026-03-10", 1, "20000.00")
    assert wrong.json()["status"] == "MISMATCHED"
    assert _reconcile(client, h, "2026-03-10", 0, "16666.67").json()["status"] == "RECONCILED"
    # a later upload dated 03-06 makes that day unreconciled again
    _upload(client, h, "S6", setl_time="2026-03-06T20:00:00+08:00")
    assert _days(client, h)["2026-03-06"] == (3, "23333.33", "UNRECONCILED")
    assert _reconcile(client, h, "2026-03-11", 0, "0.00").status_code == 422  # not begun yet


def test_reconciliation_with_ids_lists_differences(
    client: TestClient, headers: dict, clock: SimulatedClock
) -> None:
    h = headers["H001"]
    _upload(client, h, "S1")
    _upload(client, h, "S2")
    response = _reconcile(client, h, "2026-03-06", 2, "20000.00", setl_ids=["S1", "S3"])
    body = response.json()
    assert body["status"] == "MISMATCHED"
    assert body["differences"] == [
        {"setl_id": "S3", "issue": "not_held"},
        {"setl_id": "S2", "issue": "not_sent"},
    ]
    assert (
        _reconcile(client, h, "2026-03-06", 2, "20000.00", setl_ids=["S1", "S2"]).json()["status"]
        == "RECONCILED"
    )
    # S2 revoked on Tuesday: it still belongs to Friday's list (the revocation counts on 03-10)
    clock.set(clock.now() + timedelta(days=4))
    client.post("/api/v1/settlements/H001/S2/revoke", json={"reason": "x"}, headers=h)
    again = _reconcile(client, h, "2026-03-06", 2, "20000.00", setl_ids=["S1", "S2"]).json()
    assert (again["status"], again["differences"]) == ("RECONCILED", [])


def test_periods_follow_declarations(
    client: TestClient, headers: dict, session: Session, clock: SimulatedClock
) -> None:
    h = headers["H001"]
    _upload(client, h, "S1")
    settlements.lock_period_states(session, [("H001", "310")])
    session.execute(update(PeriodState).values(declared_through="2026-03"))
    session.commit()
    clock.set(clock.now() + timedelta(days=40))
    late = _upload(client, h, "S2")  # dated 03-06, March already declared
    assert late["period"] == "2026-04"
    revoked = client.post(
        "/api/v1/settlements/H001/S1/revoke", json={"reason": "x"}, headers=h
    ).json()
    assert revoked["period"] == "2026-03"  # the settlement stays in its period
    assert revoked["revocation"]["period"] == "2026-04"  # its revocation goes to the next one
    not_declared = _upload(client, h, "R1", insutype="390", hifob_pay="0.00")
    assert not_declared["period"] == "2026-03"  # 390 of H001 is declared separately
