"""Browser tests: Playwright drives Debian's Chromium by path (never a downloaded browser)
against a real uvicorn on a free port, on a committed SQLite database, with a simulated clock
the tests move. Chromium missing: skipped with the reason; under CI=true that is a failure."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from tests.support import builders
from tests.support.console import person, statement
from tests.support.databases import fresh_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_S = 20
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable() -> str | None:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (make browser installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (make install)"
    if shutil.which("fc-list") is None:
        return "fontconfig is missing (make browser installs it with chromium)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    reason = _unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class LiveServer:
    url: str
    clock: SimulatedClock
    factory: sessionmaker[Session]
    ids: dict[str, int] = field(default_factory=dict)
    outside: list[str] = field(default_factory=list)  # requests that left 127.0.0.1

    def new_page(self, browser: Any, **options: Any) -> Any:
        """A fresh context (no cookies), JavaScript off unless asked: the pages must work
        without it. Any request to another host is refused and remembered."""
        options.setdefault("java_script_enabled", False)
        context = browser.new_context(
            viewport={"width": 1366, "height": 768},
            locale="zh-CN",
            accept_downloads=True,
            **options,
        )

        def guard(route: Any) -> None:
            if route.request.url.startswith(self.url):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        click = page.click

        def click_and_load(selector: str, **click_options: Any) -> None:
            # Playwright's click returns once a navigation it caused has started, not loaded:
            # a count() or a computed style read right after it can see a page still loading
            # (it happened under CI's load). Every click here waits for the load event.
            click(selector, **click_options)
            page.wait_for_load_state()

        page.click = click_and_load
        return page


def _seed(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        builders.institution(session, "H001", name="宁夏测试医院", insutypes=("310", "390"))
        builders.institution(session, "H002", name="另一家医院")
        person(session, "h1", "hospital", "H001")
        person(session, "h2", "hospital", "H002")
        person(session, "acc", "accountant")
        person(session, "locky", "accountant")
        person(session, "idle", "accountant")
        ids = {}
        for month in range(1, 4):
            statement(session, "H001", f"2026-0{month}", status="PAID")
            statement(session, "H001", f"2026-0{month}", insutype="390", fund_pay=300_000_00)
        ids["own"] = statement(session, "H001", "2026-04", audit=88_000_00).id
        ids["other"] = statement(session, "H002", "2026-04").id
        session.commit()
    return ids


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from now on: no race with other tests
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_S
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread, port


@pytest.fixture(scope="module")
def live(chromium: Any) -> Iterator[LiveServer]:
    with fresh_database() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        clock = SimulatedClock(datetime(2026, 5, 11, 2, 0, tzinfo=UTC))
        ids = _seed(factory)
        app = create_app(
            Settings(environment="test", database_url=url), session_factory=factory, clock=clock
        )
        server, thread, port = _serve(app)
        try:
            yield LiveServer(f"http://127.0.0.1:{port}", clock, factory, ids)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            engine.dispose()
