"""A 500 leaves the keep-alive connection usable, and a 405 says what is allowed (issue 14.5,
14.9)."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.bank.simserver import serve_in_thread
from app.http import StrictJSONRoute


def _broken_route(app: FastAPI) -> None:
    router = APIRouter(route_class=StrictJSONRoute)

    @router.get("/explode")
    def explode() -> None:
        raise RuntimeError("an unexpected failure")

    app.include_router(router)


def test_after_a_500_the_keep_alive_connection_still_answers(app: FastAPI) -> None:
    _broken_route(app)
    url, stop = serve_in_thread(app)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", "/explode")
        first = connection.getresponse()
        body = first.read()
        assert first.status == 500
        assert first.getheader("content-type", "").startswith("application/problem+json")
        assert b"an unexpected failure" not in body  # never the exception text
        socket_before = connection.sock
        connection.request("GET", "/healthz")  # the same connection, kept alive
        second = connection.getresponse()
        assert second.status == 200, second.read()
        assert second.read() == b'{"status":"ok"}'
        assert connection.sock is socket_before
    finally:
        connection.close()
        stop()


def test_a_500_is_a_problem_for_the_test_client_too(app: FastAPI, client: TestClient) -> None:
    _broken_route(app)
    response = client.get("/explode")
    assert response.status_code == 500
    assert response.json()["type"] == "/problems/internal"


def test_405_carries_allow_with_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/api/v1/users")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["allow"] == "GET, POST"
    response = client.post("/api/v1/calendar/overrides/2026-03-07")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, PUT"
    response = client.put("/healthz")
    assert response.headers["allow"] == "GET"


def test_a_413_says_the_connection_closes(app: FastAPI) -> None:
    """The answer comes as soon as the declared length is too long, before any of the body is
    read, and the server closes the connection. (Sending the body as well raced the server's
    close: a broken pipe on the client's side, at random.)"""
    url, stop = serve_in_thread(app)
    parts = urlsplit(url)
    body = b"[" + b"0," * (1024 * 1024) + b"0]"
    head = (
        f"POST /api/v1/users HTTP/1.1\r\nHost: {parts.hostname}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), 10) as sock:
            sock.sendall(head)  # the declared length alone is refused: no body is read
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        status_line, *header_lines = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        assert status_line.split(" ")[1] == "413", status_line
        assert headers.get("connection") == "close"
        assert headers.get("content-type", "").startswith("application/problem+json")
    finally:
        stop()
