"""The service shell: health, OpenAPI, problem JSON, strict JSON bodies, body limits."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.http import StrictJSONRoute
from app.money import Yuan, YuanNonNegative
from tests.support import builders
from tests.support.builders import bearer


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg's DeadlockDetected carries it


class _Duplicate(Exception):
    sqlstate = "23505"  # a unique index, after a concurrent request's commit (psycopg)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: YuanNonNegative
    delta: Yuan = 0


def _echo_routes(app: FastAPI) -> None:
    router = APIRouter(route_class=StrictJSONRoute)

    @router.post("/echo")
    def echo(body: Body) -> Body:
        return body

    @router.post("/settlements/bulk")
    def bulk(body: dict[str, object]) -> dict[str, int]:
        return {"keys": len(body)}

    @router.get("/conflict")
    def conflict() -> None:
        raise Conflict("already there")

    @router.get("/deadlock")
    def deadlock() -> None:
        raise OperationalError("UPDATE ...", {}, _Deadlock("deadlock detected"))

    @router.get("/duplicate")
    def duplicate() -> None:
        raise IntegrityError("INSERT ...", {}, _Duplicate("duplicate key value"))

    @router.get("/broken")
    def broken() -> None:
        raise OperationalError("SELECT ...", {}, Exception("server closed the connection"))

    app.include_router(router)


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


def test_openapi_and_docs(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "fundledger"
    assert client.get("/docs").status_code == 200


def test_amounts_in_and_out(app: FastAPI, client: TestClient) -> None:
    _echo_routes(app)
    response = client.post("/echo", json={"amount": "1234.50", "delta": "-0.01"})
    assert response.status_code == 200
    assert response.json() == {"amount": "1234.50", "delta": "-0.01"}
    # a JSON number written with two decimals is accepted
    response = client.post(
        "/echo", content=b'{"amount": 12.30}', headers={"content-type": "application/json"}
    )
    assert response.json()["amount"] == "12.30"


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def test_bad_amounts_are_422_naming_field_and_rule(app: FastAPI, client: TestClient) -> None:
    _echo_routes(app)
    cases = [
        (b'{"amount": 1.234}', "amount", "amount_decimals"),
        (b'{"amount": 1.5e3}', "amount", "amount_no_exponent"),
        (b'{"amount": "1.234"}', "amount", "amount_decimals"),
        (b'{"amount": "-1.00"}', "amount", "amount_non_negative"),
        (b'{"amount": "abc"}', "amount", "amount_format"),
        (b'{"amount": true}', "amount", "amount_type"),
        (b'{"amount": "1.00", "delta": 1e2}', "delta", "amount_no_exponent"),
        (b'{"amount": "5\\n"}', "amount", "amount_format"),  # no newline after the digits
    ]
    for raw, field, rule in cases:
        body = _problem(
            client.post("/echo", content=raw, headers={"content-type": "application/json"}), 422
        )
        assert {"field": field, "rule": rule} == {
            k: body["errors"][0][k] for k in ("field", "rule")
        }, raw


def test_malformed_json_duplicate_keys_and_nan(app: FastAPI, client: TestClient) -> None:
    _echo_routes(app)
    headers = {"content-type": "application/json"}
    unreadable = (
        b'{"amount": "1.00",',
        b'{"amount": "1.00", "amount": "2.00"}',
        b'{"amount": NaN}',
        b'{"amount": "1.00", "delta": 1' + b"0" * 5000 + b"}",  # beyond int's digit limit
        b"[" * 50_000 + b"]" * 50_000,  # beyond the parser's depth
    )
    for raw in unreadable:
        body = _problem(client.post("/echo", content=raw, headers=headers), 422)
        assert body["errors"][0]["field"] == "body"
        assert body["errors"][0]["rule"] == "json_invalid"
    body = _problem(client.post("/echo", json={"amount": "1.00", "other": 1}), 422)
    assert body["errors"][0] == {
        "field": "other",
        "rule": "extra_forbidden",
        "message": "Extra inputs are not permitted",
    }


def test_domain_errors_and_unknown_paths(app: FastAPI, client: TestClient) -> None:
    _echo_routes(app)
    assert _problem(client.get("/conflict"), 409)["detail"] == "already there"
    deadlock = client.get("/deadlock")
    assert _problem(deadlock, 409)["type"] == "/problems/concurrent-conflict"
    assert deadlock.headers["retry-after"] == "1"
    assert _problem(client.get("/duplicate"), 409)["type"] == "/problems/concurrent-conflict"
    assert _problem(client.get("/broken"), 500)["type"] == "/problems/internal"
    _problem(client.get("/nowhere"), 404)


def test_body_limits(app: FastAPI, client: TestClient) -> None:
    _echo_routes(app)
    big = b'{"amount": "1.00", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    _problem(client.post("/echo", content=big, headers={"content-type": "application/json"}), 413)
    # the bulk path allows 16 MiB
    response = client.post(
        "/settlements/bulk", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    huge = b"x" * (16 * 1024 * 1024 + 1)
    _problem(
        client.post(
            "/settlements/bulk", content=huge, headers={"content-type": "application/json"}
        ),
        413,
    )


def test_chunked_body_over_the_limit_is_413(app: FastAPI, client: TestClient) -> None:
    _echo_routes(app)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(300):
            yield b"x" * 4096

    response = client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    _problem(response, 413)


def test_a_validation_problems_detail_agrees_with_its_errors(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    """An empty settlement upload misses nine fields: the detail says nine, not five."""
    builders.institution(session, "H001")
    hospital = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    body = _problem(client.post("/api/v1/settlements", json={}, headers=hospital), 422)
    errors = body["errors"]
    assert len(errors) == 9, errors
    assert body["detail"].startswith("9 errors: ")
    assert body["detail"].endswith("; and 4 more in `errors`")
    for error in errors[:5]:
        assert f"{error['field']}: {error['message']}" in body["detail"]
    _echo_routes(app)
    one = _problem(client.post("/echo", json={"amount": "-1"}), 422)
    assert one["detail"] == f"amount: {one['errors'][0]['message']}"  # a few: all of them
