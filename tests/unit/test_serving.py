"""Serving settings (issue 20.6): the database pool from FUNDLEDGER_DB_* settings, and
`fundledger serve --workers N --limit-concurrency M` on a socket of our own with
TCP_NODELAY (uvicorn's own multi-worker socket loses it: Kludex/uvicorn#3149)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.config import Settings, get_settings
from app.main import engine_for


def test_pool_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(environment="test")
    assert (defaults.db_pool_size, defaults.db_max_overflow, defaults.db_pool_timeout_s) == (
        5,
        10,
        5.0,
    )
    monkeypatch.setenv("FUNDLEDGER_DB_POOL_SIZE", "3")
    monkeypatch.setenv("FUNDLEDGER_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("FUNDLEDGER_DB_POOL_TIMEOUT_S", "2.5")
    settings = Settings(environment="test", database_url="sqlite:///./x.db")
    engine = engine_for(settings)
    pool: Any = engine.pool
    assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 0, 2.5)
    engine.dispose()
    # an in-memory SQLite database has a pool without a size: the settings do not apply
    memory = engine_for(Settings(environment="test", database_url="sqlite://"))
    assert not hasattr(memory.pool, "_max_overflow")
    memory.dispose()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_pool_timeout_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FUNDLEDGER_DB_POOL_TIMEOUT_S", value)
    with pytest.raises(ValueError, match="db_pool_timeout_s"):
        Settings(environment="test")


def test_the_listening_socket_and_its_connections_have_tcp_nodelay() -> None:
    with cli.listening_socket("127.0.0.1", 0) as server:
        assert server.proto == socket.IPPROTO_TCP
        assert server.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert server.get_inheritable()
        server.listen()
        with socket.create_connection(server.getsockname()) as _client:
            accepted, _ = server.accept()
            with accepted:
                # what asyncio's transport gets in a worker: TCP, TCP_NODELAY inherited
                assert accepted.proto == socket.IPPROTO_TCP
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """`fundledger serve` up to the server's start: what it would run, recorded."""
    import uvicorn
    import uvicorn.supervisors

    from app import migrate

    seen: dict[str, Any] = {}

    class Supervisor:
        def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
            seen["config"] = config
            seen["sockets"] = [
                (s.proto, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)) for s in sockets
            ]

        def run(self) -> None:
            seen["ran"] = True

    def run(app: Any, **options: Any) -> None:
        seen["single"] = options

    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("FUNDLEDGER_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(migrate, "upgrade", lambda *_: None)
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Supervisor)
    get_settings.cache_clear()
    yield seen
    get_settings.cache_clear()


def test_serve_with_workers_shares_a_tcp_nodelay_socket(served: dict[str, Any]) -> None:
    port = _free_port()
    assert (
        cli.run(["serve", "--port", str(port), "--workers", "2", "--limit-concurrency", "30"]) == 0
    )
    config = served["config"]
    assert served["ran"] and "single" not in served
    assert (config.app, config.factory, config.workers) == ("app.main:create_served_app", True, 2)
    assert config.limit_concurrency == 30
    [(proto, nodelay)] = served["sockets"]
    assert proto == socket.IPPROTO_TCP and nodelay


def test_serve_one_process_passes_limit_concurrency(served: dict[str, Any]) -> None:
    assert cli.run(["serve", "--port", str(_free_port()), "--limit-concurrency", "24"]) == 0
    assert served["single"]["limit_concurrency"] == 24
    assert "config" not in served


def test_serve_refuses_demo_with_workers(
    served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run(["serve", "--demo", "--workers", "2", "--port", str(_free_port())]) == 1
    assert "--demo serves one process" in capsys.readouterr().err
    assert cli.run(["serve", "--workers", "0"]) == 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
