"""The one input rule (issue 14.4, 14.5; docs/rules.md "Input"): every string that could reach
the database refuses NUL and lone surrogates with a 422 naming the field, before the database
sees it (so SQLite and PostgreSQL answer alike); years, dates, periods, times and integers are
bounded; none of the probe's inputs answers 500."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bank import signing
from app.bank.models import BankEvent
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET, Settings
from app.http import StrictJSONRoute
from app.main import create_app
from app.settlements.models import Revocation, Settlement
from app.workdays.models import CalendarOverride
from tests.support import builders
from tests.support.builders import bearer
from tests.support.intake import record, world

NUL = "a\x00b"
SURROGATE_JSON = b'"a\\ud800b"'  # a lone surrogate can only arrive as a JSON escape

_APP = create_app(Settings(environment="test", database_url="sqlite://"))
_SPEC = _APP.openapi()


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in _SPEC["paths"].items()
        for method, operation in operations.items()
    ]


def _is_text(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("type") == "string" for option in options)


def _sample(parameter: dict[str, Any]) -> str:
    schema = parameter["schema"]
    if schema.get("type") == "integer":
        return str(max(1, schema.get("minimum", 1)))
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "date":
        return "2026-03-06"
    if "pattern" in schema:
        return "2026-03"
    return "H001"


def _url(path: str, operation: dict[str, Any], bad: str | None = None) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = "%00" if parameter["name"] == bad else _sample(parameter)
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


PATH_TEXT = [
    (method, path, operation, parameter["name"])
    for method, path, operation in _operations()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "path" and _is_text(parameter["schema"])
]
QUERY_TEXT = [
    (method, path, operation, parameter["name"])
    for method, path, operation in _operations()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "query" and _is_text(parameter["schema"])
]
WITH_BODY = [
    (method, path, operation)
    for method, path, operation in _operations()
    if "requestBody" in operation
]


def _refused(response: Any, field: str, rule: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in errors
    ], errors


def test_every_route_applies_the_rule() -> None:
    routes = [
        context.original_route
        for context in iter_route_contexts(_APP.routes)
        if isinstance(context.original_route, APIRoute)
    ]
    assert len(routes) > 90
    assert all(isinstance(route, StrictJSONRoute) for route in routes), [
        route.path for route in routes if not isinstance(route, StrictJSONRoute)
    ]


@pytest.mark.parametrize(
    ("method", "path", "operation", "name"),
    PATH_TEXT,
    ids=[f"{m} {p} {n}" for m, p, _, n in PATH_TEXT],
)
def test_nul_in_any_path_parameter_is_422(
    client: TestClient, method: str, path: str, operation: dict[str, Any], name: str
) -> None:
    response = client.request(method, _url(path, operation, bad=name))
    _refused(response, name, "no_nul_character")


@pytest.mark.parametrize(
    ("method", "path", "operation", "name"),
    QUERY_TEXT,
    ids=[f"{m} {p} {n}" for m, p, _, n in QUERY_TEXT],
)
def test_nul_in_any_query_parameter_is_422(
    client: TestClient, method: str, path: str, operation: dict[str, Any], name: str
) -> None:
    response = client.request(method, _url(path, operation), params={name: NUL})
    _refused(response, name, "no_nul_character")


@pytest.mark.parametrize(
    ("method", "path", "operation"), WITH_BODY, ids=[f"{m} {p}" for m, p, _ in WITH_BODY]
)
def test_nul_and_surrogates_in_any_body_are_422(
    client: TestClient, method: str, path: str, operation: dict[str, Any]
) -> None:
    url = _url(path, operation)
    json_headers = {"content-type": "application/json"}
    response = client.request(method, url, json={"note": NUL, "items": [{"setl_id": "S1"}]})
    _refused(response, "note", "no_nul_character")
    body = b'{"items": [{"setl_id": ' + SURROGATE_JSON + b"}]}"
    response = client.request(method, url, content=body, headers=json_headers)
    _refused(response, "items.0.setl_id", "valid_unicode")
    response = client.request(method, url, content=b'{"a\\u0000": 1}', headers=json_headers)
    _refused(response, "a\\u0000", "no_nul_character")


# -- the probe's cases, with data behind them --------------------------------------------------


@pytest.fixture
def headers(session: Session) -> dict[str, dict[str, str]]:
    result = world(session)
    for role in ("admin", "auditor"):
        result[role] = bearer(builders.user_token(session, f"probe-{role}", role))
    session.commit()
    return result


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_probe_nul_get_routes(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    for url, field in [
        ("/api/v1/institutions/%00", "code"),
        ("/api/v1/regions/%00", "code"),
        ("/api/v1/users/%00/tokens", "name"),
        ("/api/v1/bank/instructions/%00", "instruction_id"),
        ("/api/v1/settlements/H001/%00", "setl_id"),
        ("/api/v1/ledger/accounts/%00", "code"),
        ("/api/v1/institutions?region_code=%00", "region_code"),
        ("/api/v1/audit-events?key=%00", "key"),
    ]:
        _refused(client.get(url, headers=headers["admin"]), field, "no_nul_character")


def test_nul_in_write_fields_stores_nothing(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    created = client.post("/api/v1/settlements", json=record(), headers=headers["H001"])
    assert created.status_code == 201, created.text
    response = client.post(
        "/api/v1/settlements/H001/S1/revoke", json={"reason": NUL}, headers=headers["H001"]
    )
    _refused(response, "reason", "no_nul_character")
    assert _count(session, Revocation) == 0
    response = client.put(
        "/api/v1/calendar/overrides/2026-03-07",
        json={"working": True, "note": NUL},
        headers=headers["operator"],
    )
    _refused(response, "note", "no_nul_character")
    assert _count(session, CalendarOverride) == 0
    response = client.post(
        "/api/v1/users/%00/tokens", headers=headers["admin"]
    )  # a path parameter of a write
    _refused(response, "name", "no_nul_character")


def test_a_lone_surrogate_in_a_bulk_item_is_422_and_nothing_is_stored(
    client: TestClient, session: Session, headers: dict[str, dict[str, str]]
) -> None:
    good = json.dumps(record("S1")).encode()
    body = b'{"items": [' + good + b', {"setl_id": ' + SURROGATE_JSON + b"}]}"
    response = client.post(
        "/api/v1/settlements/bulk",
        content=body,
        headers={**headers["H001"], "content-type": "application/json"},
    )
    _refused(response, "items.1.setl_id", "valid_unicode")
    assert _count(session, Settlement) == 0


def _signed(client: TestClient, clock: SimulatedClock, body: bytes) -> Any:
    signed = signing.headers(DEV_BANK_SECRET, "EVT-BAD", clock.now(), body)
    return client.post(
        "/api/v1/bank/receipts",
        content=body,
        headers={**signed, "content-type": "application/json"},
    )


def _event(**receipt: Any) -> dict[str, Any]:
    return {
        "event_id": "EVT-BAD",
        "instruction_id": "D260306-6401310-H001",
        "status": "SUCCESS",
        "amount": "6000.00",
        "payee_account": "6222072048048049",
        "failure": None,
        "receipt": {"receipt_no": "HD1", "paid_at": "2026-03-09T14:31:00+08:00", **receipt},
    }


def test_signed_callbacks_with_bad_text_or_times_are_422_and_not_stored(
    client: TestClient, session: Session, clock: SimulatedClock
) -> None:
    body = json.dumps(_event(bank_serial=NUL)).encode()
    _refused(_signed(client, clock, body), "receipt.bank_serial", "no_nul_character")
    body = json.dumps(_event()).encode().replace(b'"HD1"', SURROGATE_JSON)
    _refused(_signed(client, clock, body), "receipt.receipt_no", "valid_unicode")
    body = json.dumps(_event()).encode().replace(b'"2026-03-09T14:31:00+08:00"', b"1.5")
    _refused(_signed(client, clock, body), "receipt.paid_at", "datetime_type")
    body = json.dumps(_event(paid_at="9999-03-09T14:31:00+08:00")).encode()
    _refused(_signed(client, clock, body), "receipt.paid_at", "date_range")
    assert _count(session, BankEvent) == 0
    # the signature still comes first: a bad text under a wrong signature is a 401
    body = json.dumps(_event(bank_serial=NUL)).encode()
    forged = signing.headers("whsec_" + "Zm9yZ2Vk" * 4, "EVT-BAD", clock.now(), body)
    response = client.post(
        "/api/v1/bank/receipts",
        content=body,
        headers={**forged, "content-type": "application/json"},
    )
    assert response.status_code == 401


def test_probe_years_periods_and_times(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    operator = headers["operator"]
    for url in ("/api/v1/annual/assessments", "/api/v1/annual/clearings/export.xlsx"):
        _refused(
            client.get(url, params={"year": 34359738369}, headers=operator), "year", "year_range"
        )
        _refused(client.get(url, params={"year": 1999}, headers=operator), "year", "year_range")
    response = client.post(
        "/api/v1/declarations",
        json={"fixmedins_code": "H001", "insutype": "310", "period": "9999-12"},
        headers=headers["H001"],
    )
    _refused(response, "period", "period_format")
    for url in (
        "/api/v1/declarations/H001/310/9999-12",
        "/api/v1/reports/daily-payments/9999-12",
        "/api/v1/statements?period=9999-12",
        "/api/v1/ledger/entries?period=1999-12",
    ):
        response = client.get(url, headers=operator)
        assert response.status_code == 422, (url, response.text)
    for as_of in ("3843", "1767225600", "2026-03-06T10:00:00", "2026-03-06"):
        response = client.get("/api/v1/ledger/accounts", params={"as_of": as_of}, headers=operator)
        assert response.status_code == 422, (as_of, response.text)
        assert response.json()["errors"][0]["field"] == "as_of"
    response = client.get(
        "/api/v1/ledger/trial-balance",
        params={"as_of": "2026-03-06T10:00:00+08:00"},
        headers=headers["auditor"],
    )
    assert response.status_code == 200, response.text


def test_dates_and_integers_are_bounded_everywhere(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    operator = headers["operator"]
    _refused(
        client.get("/api/v1/settlements", params={"setl_date": "2100-01-01"}, headers=operator),
        "setl_date",
        "date_range",
    )
    _refused(
        client.get(
            "/api/v1/reconciliations",
            params={
                "fixmedins_code": "H001",
                "insutype": "310",
                "from": "1999-12-31",
                "to": "2026-03-06",
            },
            headers=operator,
        ),
        "from",
        "date_range",
    )
    _refused(
        client.put(
            "/api/v1/calendar/overrides/9999-12-31", json={"working": True}, headers=operator
        ),
        "day",
        "date_range",
    )
    response = client.post(
        "/api/v1/annual/rules",
        json={
            "year": 2026,
            "assessment_bands": [{"min_score": 0, "return_ratio": "1.00"}],
            "credit_bands": [{"min_score": 0, "return_ratio": "1.00"}],
            "deadline": "9999-12-31",
        },
        headers=operator,
    )
    _refused(response, "deadline", "date_range")
    response = client.post(
        "/api/v1/settlements",
        json=record(setl_time="1999-03-06T09:10:00+08:00"),
        headers=headers["H001"],
    )
    _refused(response, "setl_time", "date_range")
    response = client.get(
        f"/api/v1/daily-batches/{2**63}", headers=operator
    )  # beyond BIGINT: refused by the id type
    assert response.status_code == 422


def test_a_cursor_that_decodes_to_bad_text_is_refused(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps("H\x00").encode()).decode().rstrip("=")
    response = client.get(
        "/api/v1/institutions", params={"cursor": cursor}, headers=headers["operator"]
    )
    _refused(response, "cursor", "cursor_format")


def test_a_later_route_is_covered_without_declaring_anything(
    app: FastAPI, client: TestClient
) -> None:
    router = APIRouter(route_class=StrictJSONRoute)

    @router.get("/later/{name}")
    def later(name: str, year: int, day: date | None = None) -> dict[str, str]:
        return {"name": name}

    app.include_router(router)
    _refused(client.get("/later/%00", params={"year": 2026}), "name", "no_nul_character")
    _refused(client.get("/later/x", params={"year": 2**40}), "year", "year_range")
    _refused(
        client.get("/later/x", params={"year": 2026, "day": "2100-01-01"}), "day", "date_range"
    )
    assert client.get("/later/x", params={"year": 2026, "day": "2099-12-31"}).status_code == 200
