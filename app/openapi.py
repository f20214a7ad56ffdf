"""The OpenAPI document's shared parts, added in one place to every operation (API.md "Errors").

Every refusal is RFC 9457 `application/problem+json` (app/errors.py): each operation declares
the problem answers it can give, with one `Problem` schema, so a client (or a conformance
checker such as schemathesis) can rely on them. XLSX exports declare their media type. The
bounds app/inputs.py applies to every route by name and type (years, periods, integers) are
written into the parameters and request bodies that do not state them already.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from app.errors import PROBLEM_JSON
from app.inputs import INT_MAX, PERIOD_NAMES, PERIOD_PATTERN, YEAR_MAX, YEAR_MIN, YEAR_NAMES
from app.xlsx import XLSX_MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists each refused field on a 422.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["/problems/validation"]},
        "title": {"type": "string", "examples": ["Invalid input"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemError"}},
    },
    "additionalProperties": True,
}

PROBLEM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemError",
    "type": "object",
    "required": ["field", "rule", "message"],
    "properties": {
        "field": {"type": "string", "examples": ["items.0.setl_id"]},
        "rule": {"type": "string", "examples": ["no_nul_character"]},
        "message": {"type": "string"},
    },
}

DESCRIPTIONS = {
    401: "No valid credential: a missing, unknown or revoked bearer token (the bank: a bad "
    "signature or timestamp)",
    403: 'The caller\'s role may not do this (docs/rules.md "Roles")',
    404: "No such resource, or not the caller's (a hospital sees only its own)",
    409: "Conflicts with the current state, or a concurrent request held the same rows "
    "(`concurrent-conflict`, send it again after `Retry-After`)",
    413: "The request body is larger than the limit of its path",
    422: "Invalid input: `errors` names each field and the rule it breaks",
    500: "An unexpected error: nothing was written (the transaction was rolled back)",
    503: "Overloaded: every database connection stayed busy (`overloaded`); send it again "
    "after `Retry-After`",
}

HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    409: {
        "Retry-After": {
            "schema": {"type": "string"},
            "description": "seconds to wait before sending again (concurrent conflicts)",
        }
    },
    503: {
        "Retry-After": {
            "schema": {"type": "string"},
            "description": "seconds to wait before sending again",
        }
    },
}


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def _problem_statuses(path: str, operation: dict[str, Any]) -> list[int]:
    if not path.startswith("/api/"):
        return []
    statuses = [404, 409, 422, 500, 503]
    if "security" in operation:
        statuses += [401, 403]
    elif path.endswith("/bank/receipts"):
        statuses += [401, 413]  # signed by the bank; the body limit is checked first
    if "requestBody" in operation:
        statuses.append(413)
    return sorted(set(statuses))


def _bound(name: str, schema: dict[str, Any]) -> None:
    """Write the bounds of app/inputs.py into one input schema (and its anyOf options)."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "integer":
            low, high = (YEAR_MIN, YEAR_MAX) if name in YEAR_NAMES else (-INT_MAX, INT_MAX)
            option.setdefault("minimum", low)
            option.setdefault("maximum", high)
        elif option.get("type") == "string" and name in PERIOD_NAMES:
            option.setdefault("pattern", PERIOD_PATTERN)


def _bound_inputs(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    pending: list[str] = []
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                _bound(parameter["name"], parameter.get("schema", {}))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                pending += _refs(content.get("schema", {}))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        for field, schema in schemas[name].get("properties", {}).items():
            _bound(field, schema)
            pending += _refs(schema)


def _refs(schema: Any) -> list[str]:
    text = json.dumps(schema)
    marker = '"#/components/schemas/'
    return [part.split('"', 1)[0] for part in text.split(marker)[1:]]


def decorate(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problem answers to every operation (idempotent)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
    _bound_inputs(document)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _problem_statuses(path, operation):
                responses[str(status)] = _problem_response(status)
            if "201" in responses and "content" in responses["201"]:
                # Creations are idempotent: an identical replay answers 200 with what is stored.
                replay = responses.setdefault("200", {})
                replay.setdefault(
                    "description", "An identical request was applied before: what it stored"
                )
                replay.setdefault("content", responses["201"]["content"])
            if path.endswith(".xlsx") and "200" in responses:
                responses["200"]["content"] = {
                    XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}
                }
            if path == "/readyz":
                ok = responses["200"]
                responses["503"] = {
                    "description": "The database is unreachable or its migrations are behind",
                    "content": ok["content"],
                }
    # FastAPI's own 422 schemas are no longer referenced: drop them.
    paths = json.dumps(document.get("paths", {}))
    if "#/components/schemas/HTTPValidationError" not in paths:
        schemas.pop("HTTPValidationError", None)
        others = json.dumps({k: v for k, v in schemas.items() if k != "ValidationError"})
        if "#/components/schemas/ValidationError" not in paths + others:
            schemas.pop("ValidationError", None)
    return document


def install(app: FastAPI) -> None:
    """app.openapi() answers FastAPI's document with the shared parts added."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return decorate(generate())

    app.openapi = openapi  # type: ignore[method-assign]
