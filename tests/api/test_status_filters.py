"""Every enumerated query value of every list endpoint answers 200 (issue 15 item 2: the
settlements `status` filter answered 500 for each of its four documented values). The values
come from the OpenAPI (inline enums and the status enums it refers to), so a new filter is
covered the day it is added; the status filters list every value of their domain's enum."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.daily.rules import BatchStatus
from app.settlements.rules import SettlementStatus
from app.states import values
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import generate, settle

# values for the required query parameters of the lists that have some
REQUIRED = {"fixmedins_code": "H001", "from": "2026-03-01", "to": "2026-03-31", "insutype": "310"}


def _choices(schema: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The enumerated alternatives of a parameter's schema, references resolved."""
    found = []
    for alternative in schema.get("anyOf", [schema]):
        if "$ref" in alternative:
            alternative = spec["components"]["schemas"][alternative["$ref"].rsplit("/", 1)[1]]
        if "enum" in alternative:
            found.append(alternative)
    return found


def _enumerated_filters(app: FastAPI) -> list[tuple[str, dict[str, str]]]:
    """(path, query) for each value of each enumerated query parameter of every GET without
    path parameters, with the list's required parameters filled in."""
    found = []
    spec = app.openapi()
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        query = [p for p in get.get("parameters", []) if p["in"] == "query"]
        required = {p["name"]: REQUIRED[p["name"]] for p in query if p.get("required")}
        for parameter in query:
            for choice in _choices(parameter.get("schema", {}), spec):
                found += [
                    (path, {**required, parameter["name"]: str(value)}) for value in choice["enum"]
                ]
    return found


def test_every_enumerated_filter_value_answers_200(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    builders.fund(session)
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 1_000_000, date(2026, 3, 6))
    generate(session, date(2026, 3, 6))
    auditor = bearer(builders.user_token(session, "aud", "auditor"))
    session.commit()
    filters = _enumerated_filters(app)
    for path, status in (
        ("/api/v1/settlements", SettlementStatus),
        ("/api/v1/daily-batches", BatchStatus),
    ):
        listed = [q["status"] for where, q in filters if where == path and "status" in q]
        assert listed == list(values(status)), path
    failures = []
    for path, query in filters:
        response = client.get(path, params=query, headers=auditor)
        if response.status_code != 200:
            failures.append(f"{path} {query}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)
