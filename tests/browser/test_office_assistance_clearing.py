"""A case worker's clearing in a real browser (Debian's Chromium, JavaScript off): the 06:00
suggestions, 清算 of a person with a negative difference (现金追款 chosen), the printable
事前告知书 (one A4 portrait page when printed), marked delivered. Screenshots and the PDF go to
$FUNDLEDGER_BROWSER_OUTPUT (default: <tmp>/fundledger-browser) for a look."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.assistance import suggestions
from app.assistance.person_models import PersonClaim
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from tests.browser.conftest import LiveServer, _serve
from tests.browser.office import log_in
from tests.support.assistance import settle
from tests.support.clearing import at, clearing_world
from tests.support.console import person
from tests.support.databases import fresh_database

pytestmark = pytest.mark.browser

OUTPUT = Path(
    os.environ.get("FUNDLEDGER_BROWSER_OUTPUT", Path(tempfile.gettempdir()) / "fundledger-browser")
)
REFERENCE = "RT-20260521-P1-2026"


@pytest.fixture(scope="module")
def live(chromium: Any) -> Iterator[LiveServer]:
    """P1 granted 9,000.00 on a due of 8,000.00, P2 owed 800.00, suggested at 06:00 on
    2026-05-21; the case worker `cw` logs in at 10:00."""
    with fresh_database() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
        app = create_app(
            Settings(environment="test", database_url=url), session_factory=factory, clock=clock
        )
        client = TestClient(app)
        with factory() as session:
            h = clearing_world(client, session)
            at(clock, "2026-03-10T10:05")
            settle(client, h, "S1", "2026-03-10", inscp="30000.00", hifp="18000.00",
                   hifmi="2000.00", maf="9000.00")  # fmt: skip
            at(clock, "2026-05-20T10:05")
            settle(client, h, "S3", "2026-05-20", inscp="1000.00", hifp="0.00", psn_no="P2")
            at(clock, "2026-05-21T06:00")
            suggestions.refresh(session, "640100", now=clock.now())
            person(session, "cw", "operator")
            session.commit()
        at(clock, "2026-05-21T10:00")
        server, thread, port = _serve(app)
        try:
            yield LiveServer(f"http://127.0.0.1:{port}", clock, factory)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            engine.dispose()


def _pages_of(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_clear_a_negative_difference_print_the_notice_and_mark_it_delivered(
    live: LiveServer, chromium: Any
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page = log_in(live, chromium, "cw")
    page.click("nav.main-nav >> text=救助清算")
    assert page.inner_text("h1") == "实时清算提示"
    table = page.inner_text("table.list")
    assert "张某" in table and "-¥1,000.00" in table and REFERENCE in table
    page.screenshot(path=str(OUTPUT / "assistance_suggestions.png"), full_page=True)

    row = page.locator("tr", has_text="P1")
    row.locator("select[name=resolution]").select_option("cash")
    row.locator("button:text-is('清算')").click()
    page.wait_for_load_state()
    outcome = page.inner_text("section.outcome")
    assert "已清算" in outcome and REFERENCE in outcome and "现金追款" in outcome
    assert page.locator("tr", has_text="P1").filter(has=page.locator("button")).count() == 0
    page.screenshot(path=str(OUTPUT / "assistance_cleared.png"), full_page=True)

    page.click("section.outcome >> text=打印事前告知书")
    page.wait_for_load_state()
    assert page.url.endswith(f"/console/assistance/clearings/{REFERENCE}/notice")
    form = page.inner_text("article.paper-form")
    for shown in ("医疗救助个人清算事前告知书", "6401**********1234", "¥8,000.00",
                  "¥9,000.00", "¥1,000.00", "现金追款", "经办人签名"):  # fmt: skip
        assert shown in form, shown
    page.screenshot(path=str(OUTPUT / "assistance_notice.png"), full_page=True)
    pdf = page.pdf(path=str(OUTPUT / "assistance_notice.pdf"), prefer_css_page_size=True)
    assert _pages_of(pdf) == 1
    page.emulate_media(media="print")  # what is printed: the paper only, no buttons
    assert not page.locator("button:text-is('标记已送达')").is_visible()
    assert not page.locator("nav.main-nav").is_visible()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=str(OUTPUT / "assistance_notice_print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.click("button:text-is('标记已送达')")
    page.wait_for_load_state()
    assert "已标记告知书送达" in page.inner_text(".notice")
    assert "已送达" in page.inner_text(".form-hint")
    assert page.locator("button:text-is('标记已送达')").count() == 0
    with live.factory() as session:
        claim = session.scalar(select(PersonClaim).where(PersonClaim.reference == REFERENCE))
        assert claim is not None and claim.notice_delivered_by == "cw"
    assert live.outside == []
