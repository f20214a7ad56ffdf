"""Reference data over HTTP: validation names field and rule; policy is effective-dated."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support import builders
from tests.support.builders import bearer


@pytest.fixture
def operator(session: Session) -> dict[str, str]:
    headers = bearer(builders.user_token(session, "op1", "operator"))
    session.commit()
    return headers


def _error(response, status: int, field: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    errors = response.json().get("errors", [])
    assert any(e["field"] == field and e["rule"] == rule for e in errors), errors


def _setup_fund(client: TestClient, headers: dict[str, str]) -> None:
    assert (
        client.post(
            "/api/v1/regions", json={"code": "640100", "name": "银川市"}, headers=headers
        ).status_code
        == 201
    )
    response = client.post(
        "/api/v1/fund-ledgers",
        json={
            "region_code": "640100",
            "insutype": "310",
            "name": "职工",
            "expenditure_account": "955880001",
            "expenditure_account_name": "支出户",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text


def test_region_rules(client: TestClient, operator: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/regions", json={"code": "640100", "name": "银川市"}, headers=operator
    )
    assert response.status_code == 201
    assert response.json()["division_prefixes"] == ["6401"]  # SPEC §1 default
    assert (
        client.post(
            "/api/v1/regions", json={"code": "640100", "name": "x"}, headers=operator
        ).status_code
        == 409
    )
    _error(
        client.post("/api/v1/regions", json={"code": "64010", "name": "x"}, headers=operator),
        422,
        "code",
        "string_pattern_mismatch",
    )
    number_as_name = client.post(
        "/api/v1/regions",
        content=b'{"code": "640200", "name": 1e5}',
        headers={**operator, "content-type": "application/json"},
    )
    assert number_as_name.status_code == 422  # a number is not a name, exponent or not
    assert number_as_name.json()["errors"][0]["field"] == "name"
    _error(
        client.post("/api/v1/regions", json={"code": "640104", "name": "x"}, headers=operator),
        422,
        "code",
        "region_prefix_unique",
    )
    _error(
        client.post("/api/v1/regions", json={"code": "640200"}, headers=operator),
        422,
        "name",
        "missing",
    )
    response = client.patch(
        "/api/v1/regions/640100", json={"division_prefixes": ["6401", "6499"]}, headers=operator
    )
    assert response.json()["division_prefixes"] == ["6401", "6499"]


def test_fund_ledger_and_policy_rules(client: TestClient, operator: dict[str, str]) -> None:
    _setup_fund(client, operator)
    base = "/api/v1/fund-ledgers/640100/310"
    _error(
        client.post(
            "/api/v1/fund-ledgers",
            json={
                "region_code": "640900",
                "insutype": "310",
                "name": "x",
                "expenditure_account": "1234567",
                "expenditure_account_name": "x",
            },
            headers=operator,
        ),
        422,
        "region_code",
        "region_exists",
    )
    _error(
        client.post(
            "/api/v1/fund-ledgers",
            json={
                "region_code": "640100",
                "insutype": "311",
                "name": "x",
                "expenditure_account": "1234567",
                "expenditure_account_name": "x",
            },
            headers=operator,
        ),
        422,
        "insutype",
        "literal_error",
    )
    _error(
        client.post(
            "/api/v1/fund-ledgers",
            json={
                "region_code": "640100",
                "insutype": "390",
                "name": "x",
                "expenditure_account": "12-34567",
                "expenditure_account_name": "x",
            },
            headers=operator,
        ),
        422,
        "expenditure_account",
        "string_pattern_mismatch",
    )
    cases = [
        ({"daily_ratio": "1.01"}, "daily_ratio", "ratio_range"),
        ({"daily_ratio": "0.605"}, "daily_ratio", "ratio_decimals"),
        ({"deposit_rate": True}, "deposit_rate", "ratio_type"),
        ({"deposit_rate": 5}, "deposit_rate", "ratio_range"),
        ({"submission_time": "15:30"}, "cutoff_time", "cutoff_after_submission"),
        ({"submission_time": "25:00"}, "submission_time", "string_pattern_mismatch"),
        ({"declaration_day": 29}, "declaration_day", "less_than_equal"),
        ({"approval_threshold": "-1.00"}, "approval_threshold", "amount_positive"),
    ]
    for extra, field, rule in cases:
        _error(
            client.post(
                f"{base}/policies", json={"effective_from": "2026-01-01", **extra}, headers=operator
            ),
            422,
            field,
            rule,
        )
    assert (
        client.post(
            f"{base}/policies", json={"effective_from": "2026-01-01"}, headers=operator
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"{base}/policies", json={"effective_from": "2026-01-01"}, headers=operator
        ).status_code
        == 409
    )
    client.post(
        f"{base}/policies",
        json={"effective_from": "2026-03-15", "daily_ratio": "0.70"},
        headers=operator,
    )
    client.post(
        f"{base}/policies", json={"effective_from": "2026-06-01", "active": False}, headers=operator
    )

    def on(day: str) -> dict:  # type: ignore[type-arg]
        return client.get(f"{base}/policy", params={"on": day}, headers=operator).json()

    assert on("2025-12-31")["switched_on"] is False  # gap before the first version
    assert on("2026-03-14")["daily_ratio"] == "0.60"
    assert on("2026-03-15")["daily_ratio"] == "0.70"
    assert on("2026-06-01")["switched_on"] is False
    fund = client.get(base, headers=operator).json()
    assert fund["switched_on_from"] == "2026-01-01"
    assert [p["effective_from"] for p in fund["policies"]] == [
        "2026-01-01",
        "2026-03-15",
        "2026-06-01",
    ]


def test_institution_rules(client: TestClient, operator: dict[str, str]) -> None:
    _setup_fund(client, operator)
    good = {
        "code": "H001",
        "name": "银川市第一人民医院",
        "level": 3,
        "region_code": "640100",
        "bank_account": "6222000000000001",
        "bank_account_name": "银川市第一人民医院",
        "bank_code": "102871000011",
        "enrollments": [{"insutype": "310", "start_date": "2026-01-01"}],
    }
    cases = [
        ({"level": 0}, "level", "greater_than_equal"),
        ({"level": 4}, "level", "less_than_equal"),
        ({"bank_account": "6222-0000"}, "bank_account", "string_pattern_mismatch"),
        ({"bank_code": "10287"}, "bank_code", "string_pattern_mismatch"),
        ({"code": "h-001"}, "code", "string_pattern_mismatch"),
        ({"region_code": "640900"}, "region_code", "region_exists"),
        (
            {"enrollments": [{"insutype": "390", "start_date": "2026-01-01"}]},
            "insutype",
            "fund_ledger_exists",
        ),
        (
            {
                "enrollments": [
                    {"insutype": "310", "start_date": "2026-02-01", "end_date": "2026-01-01"}
                ]
            },
            "enrollments.0.end_date",
            "end_after_start",
        ),
        ({"unknown": 1}, "unknown", "extra_forbidden"),
    ]
    for extra, field, rule in cases:
        _error(
            client.post("/api/v1/institutions", json={**good, **extra}, headers=operator),
            422,
            field,
            rule,
        )
    assert (
        client.get("/api/v1/institutions/H001", headers=operator).status_code == 404
    )  # nothing half-stored
    response = client.post("/api/v1/institutions", json=good, headers=operator)
    assert response.status_code == 201, response.text
    assert response.json()["enrollments"][0]["insutype"] == "310"
    assert client.post("/api/v1/institutions", json=good, headers=operator).status_code == 409
    overlapping = client.post(
        "/api/v1/institutions/H001/enrollments",
        json={"insutype": "310", "start_date": "2026-05-01"},
        headers=operator,
    )
    assert overlapping.status_code == 409
    # ended, enrolled again, then the first span cannot be stretched over the second
    first_id = client.get("/api/v1/institutions/H001", headers=operator).json()["enrollments"][0]
    end = f"/api/v1/institutions/H001/enrollments/{first_id['id']}/end"
    assert client.post(f"{end}?end_date=2026-03-31", headers=operator).status_code == 200
    again = client.post(
        "/api/v1/institutions/H001/enrollments",
        json={"insutype": "310", "start_date": "2026-04-01"},
        headers=operator,
    )
    assert again.status_code == 201
    assert client.post(f"{end}?end_date=2026-12-31", headers=operator).status_code == 409
    patched = client.patch("/api/v1/institutions/H001", json={"level": 2}, headers=operator)
    assert patched.json()["level"] == 2


def test_audit_trail_records_before_and_after(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    auditor = bearer(builders.user_token(session, "aud1", "auditor"))
    session.commit()
    _setup_fund(client, operator)
    client.patch("/api/v1/regions/640100", json={"name": "银川"}, headers=operator)
    events = client.get(
        "/api/v1/audit-events", params={"entity": "region"}, headers=auditor
    ).json()["items"]
    assert [e["action"] for e in events] == ["region.create", "region.update"]
    assert events[1]["before"]["name"] == "银川市" and events[1]["after"]["name"] == "银川"
    assert events[1]["actor"] == "op1"
    page = client.get("/api/v1/audit-events", params={"limit": 1}, headers=auditor).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    second = client.get(
        "/api/v1/audit-events", params={"limit": 1, "cursor": page["next_cursor"]}, headers=auditor
    ).json()
    assert second["items"][0]["id"] > page["items"][0]["id"]
    _error(
        client.get("/api/v1/audit-events", params={"cursor": "%%%"}, headers=auditor),
        422,
        "cursor",
        "cursor_format",
    )
    from app.pagination import encode_cursor

    nested = base64.urlsafe_b64encode(b"[" * 140).decode().rstrip("=")
    forged_cursors = (encode_cursor("1; drop"), encode_cursor([1]), encode_cursor(-1), "bnVsbA")
    for forged in (*forged_cursors, nested, "A" * 5000):
        _error(
            client.get("/api/v1/audit-events", params={"cursor": forged}, headers=auditor),
            422,
            "cursor",
            "cursor_format",
        )
