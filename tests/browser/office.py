"""The office pages' live server for the browser tests: the office world (tests/support/office)
on a fresh database behind uvicorn on a free port, with the simulated clock of the API tests
(Friday 2026-03-06 10:00 in Shanghai), and logging in through the login form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from tests.browser.conftest import LiveServer, _serve
from tests.support.console import PASSWORD, statement
from tests.support.databases import fresh_database
from tests.support.office import world

NOW = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)


@contextmanager
def office_server() -> Iterator[LiveServer]:
    with fresh_database() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as session:
            seeded = world(session)
            own = statement(session, "H001", "2026-01")
            session.commit()
            ids = {"alert": seeded.alert_id, "entry": seeded.entry_id, "statement": own.id}
        clock = SimulatedClock(NOW)
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


def log_in(live: LiveServer, browser: Any, name: str, password: str = PASSWORD) -> Any:
    """A fresh browser context (JavaScript off) logged in as `name`, on its 首页."""
    page = live.new_page(browser)
    page.goto(f"{live.url}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{live.url}/console/", page.url
    return page


def post_forms(page: Any) -> list[str]:
    """The actions of every POST form on the page."""
    return list(
        page.eval_on_selector_all(
            "form",
            "forms => forms.filter(f => f.method.toLowerCase() === 'post')"
            ".map(f => new URL(f.action).pathname)",
        )
    )
