"""What schemathesis found over the OpenAPI (tests/api/test_schemathesis.py), one focused
regression test each."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from tests.support import builders
from tests.support.builders import bearer

_SPEC = create_app(Settings(environment="test", database_url="sqlite://")).openapi()


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001")
    result = {
        role: bearer(builders.user_token(session, f"found-{role}", role))
        for role in ("admin", "operator")
    }
    session.commit()
    return result


def _refused(response: Any, field: str, rule: str) -> None:
    assert response.status_code == 422, response.text
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
    ], response.text


def test_a_non_hospital_user_with_an_empty_institution_is_422_not_500(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    # ST101: the CHECK constraint refused "" (the service only refused a non-empty code).
    response = client.post(
        "/api/v1/users",
        json={"name": "x1", "role": "auditor", "fixmedins_code": ""},
        headers=headers["admin"],
    )
    _refused(response, "fixmedins_code", "string_pattern_mismatch")


def test_a_json_number_or_text_is_not_a_boolean_and_true_is_not_an_integer(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    # ST201: pydantic's lax mode read 0/1/"yes" as booleans and true as an integer.
    operator, admin = headers["operator"], headers["admin"]
    for working in (0, 1, "yes", "true"):
        response = client.put(
            "/api/v1/calendar/overrides/2026-03-07", json={"working": working}, headers=operator
        )
        _refused(response, "working", "bool_type")
    response = client.patch("/api/v1/institutions/H001", json={"level": True}, headers=operator)
    _refused(response, "level", "int_type")
    response = client.patch("/api/v1/institutions/H001", json={"level": "3"}, headers=operator)
    _refused(response, "level", "int_type")
    response = client.patch("/api/v1/users/found-operator", json={"active": 0}, headers=admin)
    _refused(response, "active", "bool_type")
    response = client.post(
        "/api/v1/jobs/alerts/run",
        json={"business_date": "2026-03-06", "again": 1},
        headers=operator,
    )
    _refused(response, "again", "bool_type")
    # real JSON booleans and integers still pass
    response = client.put(
        "/api/v1/calendar/overrides/2026-03-07", json={"working": True}, headers=operator
    )
    assert response.status_code == 200, response.text
    response = client.patch("/api/v1/institutions/H001", json={"level": 3}, headers=operator)
    assert response.status_code == 200, response.text


def _schema(name: str) -> dict[str, Any]:
    return _SPEC["components"]["schemas"][name]


def test_amounts_ratios_and_scores_document_what_they_accept() -> None:
    # ST201: a JSON number for an amount or a ratio is accepted (API.md), so the request
    # schema says so; a score is a number from 0 to 100 (documented as an unbounded integer).
    amount = _schema("SettlementIn")["properties"]["hifp_pay"]
    assert [option["type"] for option in amount["anyOf"]] == ["string", "number"]
    ratio = _schema("Band")["properties"]["return_ratio"]
    assert [option["type"] for option in ratio["anyOf"]] == ["string", "number"]
    score = _schema("Band")["properties"]["min_score"]
    assert (score["type"], score["minimum"], score["maximum"]) == ("number", 0, 100)
    # answers still write amounts and ratios as text
    assert _schema("PolicyOut")["properties"]["daily_ratio"]["type"] == "string"


def test_a_creation_declares_the_200_of_its_identical_replay() -> None:
    # ST103: POST /annual/rules (and every idempotent creation) answers 200 on a replay.
    for path in ("/api/v1/annual/rules", "/api/v1/settlements", "/api/v1/declarations"):
        responses = _SPEC["paths"][path]["post"]["responses"]
        assert {"200", "201"} <= set(responses), path
        assert responses["200"]["content"] == responses["201"]["content"]


def test_a_json_number_is_not_an_object(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    # ST201: PATCH /regions/{code} with the body 3.68e16 answered 200 (FastAPI validates a
    # body with from_attributes, and every field of the patch is optional).
    json_type = {"content-type": "application/json"}
    for body in (b"3.5", b"36815688564442810", b'"x"', b"true"):
        response = client.patch(
            "/api/v1/regions/640100", content=body, headers={**headers["operator"], **json_type}
        )
        assert response.status_code == 422, (body, response.text)
    response = client.patch(
        "/api/v1/users/found-operator", content=b"3.5", headers={**headers["admin"], **json_type}
    )
    _refused(response, "body", "model_type")
