"""`fundledger users add` and `fundledger tokens issue` against a real database."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from tests.support.console import log_in
from tests.support.databases import fresh_database


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, FUNDLEDGER_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_users_add_and_tokens_issue() -> None:
    with fresh_database() as url:
        assert _cli(url, "users", "add", "root", "--role", "admin").returncode == 0
        refused = _cli(url, "users", "add", "h1", "--role", "hospital", "--institution", "H404")
        assert refused.returncode == 1 and "no such institution" in refused.stderr
        issued = _cli(url, "tokens", "issue", "root")
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()
        assert token.startswith("flt_")
        assert _cli(url, "calendar", "set", "2026-03-16", "--off").returncode == 0
        engine = make_engine(url)
        app = create_app(
            Settings(environment="test", database_url=url),
            session_factory=make_sessionmaker(engine),
        )
        with TestClient(app) as client:
            me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json() == {"name": "root", "role": "admin", "fixmedins_code": None}
            events = client.get(
                "/api/v1/audit-events", headers={"Authorization": f"Bearer {token}"}
            ).json()["items"]
            assert [e["action"] for e in events] == [
                "user.create",
                "token.issue",
                "calendar.override",
            ]
        engine.dispose()


def _cli_input(url: str, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, FUNDLEDGER_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_passwd_sets_a_console_password() -> None:
    with fresh_database() as url:
        assert _cli(url, "users", "add", "clerk", "--role", "accountant").returncode == 0
        short = _cli_input(url, "short\n", "users", "passwd", "clerk", "--password-stdin")
        assert short.returncode == 2 and "10 to 128 characters" in short.stderr
        unknown = _cli_input(
            url, "long-enough-1\n", "users", "passwd", "nobody", "--password-stdin"
        )
        assert unknown.returncode == 2
        done = _cli_input(url, "long-enough-1\n", "users", "passwd", "clerk", "--password-stdin")
        assert done.returncode == 0, done.stderr
        prompted = _cli_input(url, "long-enough-2\nlong-enough-2\n", "users", "passwd", "clerk")
        assert prompted.returncode == 0, prompted.stderr
        engine = make_engine(url)
        app = create_app(
            Settings(environment="test", database_url=url),
            session_factory=make_sessionmaker(engine),
        )
        with TestClient(app) as client:
            assert log_in(client, "clerk", "long-enough-1").status_code == 200  # the form again
            assert log_in(client, "clerk", "long-enough-2").headers["location"] == "/console/"
        engine.dispose()
