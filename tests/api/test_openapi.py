"""The OpenAPI document declares the problem answers of every operation (issue 14.9)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

PROBLEM = "application/problem+json"
_SPEC = create_app(Settings(environment="test", database_url="sqlite://")).openapi()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in _SPEC["paths"].items()
    for method, operation in operations.items()
    if path.startswith("/api/")
]


def _declares_problem(operation: dict[str, Any], status: int) -> bool:
    response = operation["responses"].get(str(status), {})
    schema = response.get("content", {}).get(PROBLEM, {}).get("schema")
    return schema == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_every_operation_declares_its_problem_answers(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    expected = {404, 409, 422, 500, 503}
    if "security" in operation:
        expected |= {401, 403}
    if "requestBody" in operation or path.endswith("/bank/receipts"):
        expected |= {413}
    if path.endswith("/bank/receipts"):
        expected |= {401}
    missing = [status for status in sorted(expected) if not _declares_problem(operation, status)]
    assert not missing, missing
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert list(response.get("content", {})) == [PROBLEM], (status, response)


def test_the_problem_schema_and_no_fastapi_validation_schema() -> None:
    schemas = _SPEC["components"]["schemas"]
    assert "Problem" in schemas and "ProblemError" in schemas
    assert "HTTPValidationError" not in schemas


def test_exports_declare_xlsx_and_bounds_are_written() -> None:
    export = _SPEC["paths"]["/api/v1/statements/export.xlsx"]["get"]["responses"]["200"]
    assert list(export["content"]) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]
    parameters = _SPEC["paths"]["/api/v1/annual/assessments"]["get"]["parameters"]
    year = next(p for p in parameters if p["name"] == "year")["schema"]["anyOf"][0]
    assert (year["minimum"], year["maximum"]) == (2000, 2099)
    parameters = _SPEC["paths"]["/api/v1/statements"]["get"]["parameters"]
    period = next(p for p in parameters if p["name"] == "period")["schema"]["anyOf"][0]
    assert period["pattern"] == "^20[0-9]{2}-(0[1-9]|1[0-2])$"


TYPES = {"string": str, "integer": int, "array": list, "object": dict}


def _conforms(value: dict[str, Any], schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    assert set(schema["required"]) <= set(value), value
    for name, field in schema["properties"].items():
        if name not in value:
            continue
        if "$ref" in field:
            field = schemas[field["$ref"].rsplit("/", 1)[1]]
        assert isinstance(value[name], TYPES[field["type"]]), (name, value[name])
        if field["type"] == "array":
            item = schemas[field["items"]["$ref"].rsplit("/", 1)[1]]
            for element in value[name]:
                _conforms(element, item, schemas)


def test_real_problem_answers_match_the_declared_schema(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for response, status in (
        (client.get("/api/v1/settlements"), 401),
        (client.get("/api/v1/institutions/%00"), 422),
        (client.get("/api/v1/nowhere"), 404),
    ):
        assert response.status_code == status
        assert response.headers["content-type"].startswith(PROBLEM)
        _conforms(response.json(), schemas["Problem"], schemas)
