"""Uploads: the bad-input catalogue (each refusal names field and rule, nothing is stored),
replays, conflicts, bulk, isolation between hospitals."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.settlements.models import Settlement
from tests.support.intake import record, world


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    return world(session)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Settlement)) or 0


def test_upload_and_replay(client: TestClient, headers: dict, session: Session) -> None:
    response = client.post("/api/v1/settlements", json=record(), headers=headers["H001"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["fund_amount"] == "10000.00"  # hifp_pay + hifob_pay for 310
    assert (body["setl_date"], body["period"], body["status"]) == (
        "2026-03-06",
        "2026-03",
        "accepted",
    )
    again = client.post("/api/v1/settlements", json=record(), headers=headers["H001"])
    assert again.status_code == 200 and again.json() == body
    # the same instant written in another offset is the same content
    same = record(setl_time="2026-03-06T01:10:00+00:00")
    assert client.post("/api/v1/settlements", json=same, headers=headers["H001"]).status_code == 200
    other = client.post(
        "/api/v1/settlements", json=record(hifp_pay="9000.01"), headers=headers["H001"]
    )
    assert other.status_code == 409
    assert _count(session) == 1


def test_resident_fund_amount_and_district_codes(client: TestClient, headers: dict) -> None:
    response = client.post(
        "/api/v1/settlements",
        json=record("R1", insutype="390", hifob_pay="0.00", insuplc_admdvs="640104"),
        headers=headers["H001"],
    )
    assert response.status_code == 201, response.text
    assert response.json()["fund_amount"] == "9000.00"


CATALOGUE = [
    # (overrides, field, rule)
    ({"insutype": 310}, "insutype", "literal_error"),
    ({"medfee_sumamt": []}, "medfee_sumamt", "amount_type"),
    ({"hifp_pay": "1.234"}, "hifp_pay", "amount_decimals"),
    ({"hifp_pay": "-1.00"}, "hifp_pay", "amount_non_negative"),
    ({"setl_time": "2026-03-06T09:10:00"}, "setl_time", "timezone_aware"),
    ({"setl_time": "2026-03-06T18:00:00+08:00"}, "setl_time", "not_in_future"),
    ({"setl_time": "yesterday"}, "setl_time", "datetime_from_date_parsing"),
    ({"insuplc_admdvs": "640200"}, "insuplc_admdvs", "same_pooling_region"),
    ({"insuplc_admdvs": "6401"}, "insuplc_admdvs", "string_pattern_mismatch"),
    ({"med_type": "11"}, "med_type", "inpatient_med_type"),
    ({"hifp_pay": "14500.00"}, "hifp_pay", "fund_within_total"),
    ({"insutype": "390", "hifob_pay": "1.00"}, "hifob_pay", "hifob_pay_only_310"),
    ({"psn_no": None}, "psn_no", "missing"),
    ({"setl_id": ""}, "setl_id", "string_pattern_mismatch"),
    ({"extra": "x"}, "extra", "extra_forbidden"),
    ({"setl_time": "2025-12-31T10:00:00+08:00"}, "insutype", "fund_switched_on"),
]


@pytest.mark.parametrize(("overrides", "field", "rule"), CATALOGUE)
def test_bad_input_catalogue(
    client: TestClient, headers: dict, session: Session, overrides: dict, field: str, rule: str
) -> None:
    response = client.post("/api/v1/settlements", json=record(**overrides), headers=headers["H001"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert any(e["field"] == field and e["rule"] == rule for e in errors), errors
    assert "P0001" not in response.text  # personal numbers never echoed
    assert _count(session) == 0


def _raw(client: TestClient, headers: dict, raw: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/settlements", content=raw, headers={**headers, "content-type": "application/json"}
    )


def test_json_level_refusals(client: TestClient, headers: dict, session: Session) -> None:
    text = json.dumps(record())
    exponent = text.replace('"9000.00"', "9e3")
    float_three = text.replace('"9000.00"', "9000.001")
    for raw, field, rule in [
        (b'{"setl_id": ', "body", "json_invalid"),
        (exponent.encode(), "hifp_pay", "amount_no_exponent"),
        (float_three.encode(), "hifp_pay", "amount_decimals"),
        (
            text.replace('"setl_id": "S1"', '"setl_id": "S1", "setl_id": "S2"').encode(),
            "body",
            "json_invalid",
        ),
    ]:
        response = _raw(client, headers["H001"], raw)
        assert response.status_code == 422, raw
        assert response.json()["errors"][0] == {
            **response.json()["errors"][0],
            "field": field,
            "rule": rule,
        }
    # a JSON number with two decimals is fine
    assert (
        _raw(client, headers["H001"], text.replace('"9000.00"', "9000.00").encode()).status_code
        == 201
    )
    assert _count(session) == 1


def test_level_one_institution_is_refused(
    client: TestClient, headers: dict, session: Session
) -> None:
    response = client.post(
        "/api/v1/settlements", json=record(fixmedins_code="H003"), headers=headers["H003"]
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "institution_level"
    assert _count(session) == 0


def test_not_enrolled_for_insurance_type(client: TestClient, headers: dict) -> None:
    response = client.post(
        "/api/v1/settlements",
        json=record(fixmedins_code="H002", insutype="390", hifob_pay="0"),
        headers=headers["H002"],
    )
    assert response.status_code == 422
    assert {"field": "insutype", "rule": "institution_enrolled"} in [
        {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
    ]


def test_another_or_unknown_institution_is_404(
    client: TestClient, headers: dict, session: Session
) -> None:
    for code in ("H002", "H999"):
        response = client.post(
            "/api/v1/settlements", json=record(fixmedins_code=code), headers=headers["H001"]
        )
        assert response.status_code == 404
    assert _count(session) == 0


def test_only_hospitals_upload(client: TestClient, headers: dict) -> None:
    assert (
        client.post("/api/v1/settlements", json=record(), headers=headers["operator"]).status_code
        == 403
    )
    assert client.post("/api/v1/settlements", json=record()).status_code == 401


def test_oversize_bodies(client: TestClient, headers: dict, session: Session) -> None:
    big = record(psn_no="P" * 10)
    big["clr_way"] = "x" * (1024 * 1024)
    assert client.post("/api/v1/settlements", json=big, headers=headers["H001"]).status_code == 413
    too_many = {"items": [record(f"S{i}") for i in range(5001)]}
    response = client.post("/api/v1/settlements/bulk", json=too_many, headers=headers["H001"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items"
    huge = b'{"items": [' + b'"' + b"x" * (16 * 1024 * 1024) + b'"]}'
    assert _raw_bulk(client, headers["H001"], huge).status_code == 413
    assert _count(session) == 0


def _raw_bulk(client: TestClient, headers: dict, raw: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/settlements/bulk",
        content=raw,
        headers={**headers, "content-type": "application/json"},
    )


def test_bulk_judges_each_item(client: TestClient, headers: dict, session: Session) -> None:
    client.post("/api/v1/settlements", json=record("S0"), headers=headers["H001"])
    items = [
        record("S0"),  # duplicate of the stored one
        record("S1"),  # created
        record("S0", hifp_pay="1.00"),  # conflict with the stored one
        record("S2", med_type="11"),  # invalid: outpatient
        record("S3", fixmedins_code="H002"),  # another institution: invalid, no leak
        record("S1"),  # the same record twice in one request: duplicate
        record("S4", hifp_pay="1.001"),  # invalid amount
        "not an object",
        record("S5", insutype="390", hifob_pay="0.00"),  # created
    ]
    response = client.post(
        "/api/v1/settlements/bulk", json={"items": items}, headers=headers["H001"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    outcomes = [(r["index"], r["setl_id"], r["outcome"]) for r in body["results"]]
    assert outcomes == [
        (0, "S0", "duplicate"),
        (1, "S1", "created"),
        (2, "S0", "conflict"),
        (3, "S2", "invalid"),
        (4, "S3", "invalid"),
        (5, "S1", "duplicate"),
        (6, "S4", "invalid"),
        (7, None, "invalid"),
        (8, "S5", "created"),
    ]
    assert (body["created"], body["duplicate"], body["conflict"], body["invalid"]) == (2, 2, 1, 4)
    assert body["results"][3]["errors"][0]["rule"] == "inpatient_med_type"
    assert body["results"][4]["errors"][0]["rule"] == "institution_exists"
    assert body["results"][6]["errors"][0] == {
        "field": "hifp_pay",
        "rule": "amount_decimals",
        "message": "at most two decimals (fen)",
    }
    assert _count(session) == 3
    replay = client.post(
        "/api/v1/settlements/bulk", json={"items": items}, headers=headers["H001"]
    ).json()
    assert (replay["created"], replay["duplicate"]) == (0, 4)
    assert _count(session) == 3


def test_listing_with_filters_and_cursor(client: TestClient, headers: dict) -> None:
    for i in range(5):
        client.post("/api/v1/settlements", json=record(f"S{i}"), headers=headers["H001"])
    client.post(
        "/api/v1/settlements", json=record("X1", fixmedins_code="H002"), headers=headers["H002"]
    )
    page = client.get("/api/v1/settlements", params={"limit": 2}, headers=headers["H001"]).json()
    assert [s["setl_id"] for s in page["items"]] == ["S0", "S1"]
    rest = client.get(
        "/api/v1/settlements",
        params={"limit": 10, "cursor": page["next_cursor"]},
        headers=headers["H001"],
    ).json()
    assert [s["setl_id"] for s in rest["items"]] == ["S2", "S3", "S4"] and rest[
        "next_cursor"
    ] is None
    # a hospital never sees another's: asking for it is 404 (never its own data instead)
    other = client.get(
        "/api/v1/settlements", params={"fixmedins_code": "H002"}, headers=headers["H001"]
    )
    assert other.status_code == 404, other.text
    all_rows = client.get(
        "/api/v1/settlements", params={"period": "2026-03"}, headers=headers["accountant"]
    ).json()
    assert len(all_rows["items"]) == 6
    assert (
        client.get(
            "/api/v1/settlements", params={"period": "2026-13"}, headers=headers["accountant"]
        ).status_code
        == 422
    )
