"""The API under overload (issue 20.6): a request that cannot get a database connection in
FUNDLEDGER_DB_POOL_TIMEOUT_S is answered 503 (problem JSON, Retry-After) at once instead of a
500 after 30 s; a route's connection goes back to the pool when its endpoint returns, before
the answer is validated in the thread pool (the thread-pool / connection-pool deadlock of
bench/README.md "Load"). On a fresh database with a pool of one connection."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import http as app_http
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker, pool_options, transaction
from app.errors import BUSY_RETRY_AFTER_S, PROBLEM_JSON
from app.main import create_app
from app.ops import metrics
from tests.support import builders, console, databases
from tests.support.builders import bearer

LIST = "/api/v1/bank/instructions"


@pytest.fixture
def world() -> Iterator[tuple[FastAPI, Engine, dict[str, str]]]:
    with databases.fresh_database() as url:
        engine = make_engine(url, **pool_options(url, size=1, overflow=0, timeout_s=0.3))
        factory = make_sessionmaker(engine)
        with transaction(factory) as session:
            token = builders.user_token(session, "ops", "accountant")
        settings = Settings(environment="test", database_url=url)
        clock = SimulatedClock(datetime(2026, 3, 6, 2, 0, tzinfo=UTC))
        try:
            yield create_app(settings, session_factory=factory, clock=clock), engine, bearer(token)
        finally:
            engine.dispose()


def _answers_503(status: str) -> float:
    labels = {"method": "GET", "route": LIST, "status": status}
    value = metrics.PROCESS.get_sample_value(
        "fundledger_http_request_duration_seconds_count", labels
    )
    return value or 0.0


def test_an_exhausted_pool_answers_503_with_retry_after(
    world: tuple[FastAPI, Engine, dict[str, str]],
) -> None:
    app, engine, headers = world
    before = _answers_503("503")
    with TestClient(app, raise_server_exceptions=False) as client:
        with engine.connect():  # the pool's only connection, held
            busy = client.get(LIST, headers=headers)
        assert busy.status_code == 503, busy.text
        assert busy.headers["content-type"] == PROBLEM_JSON
        assert busy.headers["retry-after"] == str(BUSY_RETRY_AFTER_S)
        body = busy.json()
        assert body["type"] == "/problems/overloaded"
        assert body["status"] == 503
        assert "send the request again" in body["detail"]
        # counted in /metrics (the request histogram by status)
        assert _answers_503("503") == before + 1
        # the connection back: the same request is answered
        assert client.get(LIST, headers=headers).status_code == 200


def test_a_list_route_returns_its_connection_before_the_answer_is_serialised(
    world: tuple[FastAPI, Engine, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, engine, headers = world
    seen: list[int] = []
    serialize = fastapi.routing.serialize_response

    async def watched(**kwargs: Any) -> Any:
        seen.append(engine.pool.checkedout())  # type: ignore[attr-defined]
        return await serialize(**kwargs)

    monkeypatch.setattr(fastapi.routing, "serialize_response", watched)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(LIST, headers=headers).status_code == 200
        assert seen == [0]
        # the control: without the per-request record of sessions the endpoint cannot close
        # them, and the connection is still out while the answer is validated
        monkeypatch.setattr(app_http, "request_sessions", contextlib.nullcontext)
        assert client.get(LIST, headers=headers).status_code == 200
        assert seen == [0, 1]


def test_a_console_page_under_overload_is_a_page_with_retry_after(
    world: tuple[FastAPI, Engine, dict[str, str]],
) -> None:
    app, engine, _ = world
    with transaction(make_sessionmaker(engine)) as session:
        console.person(session, "acc-page", "accountant")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert console.log_in(client, "acc-page").status_code == 303
        with engine.connect():  # the pool's only connection, held
            busy = client.get("/console/")
        assert busy.status_code == 503
        assert busy.headers["content-type"].startswith("text/html")
        assert busy.headers["retry-after"] == str(BUSY_RETRY_AFTER_S)
        assert "系统繁忙" in busy.text
        assert client.get("/console/").status_code == 200
