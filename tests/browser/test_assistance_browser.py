"""The medical-assistance pages in a real browser (Debian's Chromium, JavaScript off), on the
world of tests/support/assistance_console.py: a case worker finds a person and opens a year;
an accountant approves a payment to a person; a hospital records documents and confirms an
assistance statement. Each page is saved as a PNG (`FUNDLEDGER_SCREENSHOTS`, else the test's
temporary folder) to be looked at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.assistance.person_models import PersonPayment
from app.assistance.statement_models import AssistanceStatement
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from tests.browser.conftest import LiveServer, _serve
from tests.support import assistance_console
from tests.support.assistance_console import APPLICATION, PERSON
from tests.support.console import PASSWORD, person
from tests.support.databases import fresh_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(chromium: Any) -> Iterator[LiveServer]:
    with fresh_database() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as session:
            ids = assistance_console.seed(session)
            person(session, "h2", "hospital", "H002")
            session.commit()
        clock = SimulatedClock(datetime(2026, 4, 2, 2, 0, tzinfo=UTC))
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


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("FUNDLEDGER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("assistance-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _log_in(live: LiveServer, browser: Any, name: str) -> Any:
    page = live.new_page(browser)
    page.goto(f"{live.url}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == f"{live.url}/console/"
    return page


def _status(live: LiveServer, model: Any, row_id: int) -> str:
    with live.factory() as session:
        return str(session.scalars(select(model.status).where(model.id == row_id)).one())


def _no_overflow(page: Any) -> None:
    """Nothing wider than the 1366-pixel office screen (the layout's own width)."""
    width = page.locator("main").bounding_box()["width"]
    assert width <= 1366, width


def test_a_case_worker_finds_a_person_and_opens_a_year(
    live: LiveServer, chromium: Any, shots: Path
) -> None:
    page = _log_in(live, chromium, "op")
    page.click("nav.main-nav >> text=救助对象")
    assert page.locator("h1").inner_text() == "救助对象"
    page.fill("input[name=q]", "王救")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "6401**********1234" in rows.inner_text()
    page.screenshot(path=str(shots / "operator-assistance-persons.png"), full_page=True)
    page.click(f"a:has-text('{PERSON}')")
    assert "王救助" in page.locator("h1").inner_text()
    page.select_option("select[name=year]", "2026")
    page.click("#year form button[type=submit]")
    figures = page.locator("#year .figures").inner_text()
    assert "¥16,600.00" in figures and "¥9,100.00" in figures and "¥7,500.00" in figures
    assert page.locator("#year table.list").first.locator("tbody tr").count() == 3
    _no_overflow(page)
    page.screenshot(path=str(shots / "operator-assistance-person.png"), full_page=True)
    page.click("#claims button:has-text('告知已送达')")
    assert "已登记事前告知书送达" in page.inner_text("main")
    page.click("text=打印本年度救助明细表")
    assert "医疗救助年度明细表" in page.inner_text("main")
    page.screenshot(path=str(shots / "operator-assistance-print.png"), full_page=True)
    pdf = page.pdf(path=str(shots / "operator-assistance-print.pdf"), format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one A4 sheet
    assert not live.outside, live.outside


def test_an_accountant_approves_a_person_payment(
    live: LiveServer, chromium: Any, shots: Path
) -> None:
    page = _log_in(live, chromium, "acc")
    page.click("nav.main-nav >> text=救助支付审批")
    row = page.locator("table.queue tbody tr", has_text=APPLICATION)
    assert "王救助" in row.inner_text() and "¥600.00" in row.inner_text()
    page.screenshot(path=str(shots / "accountant-assistance-payments.png"), full_page=True)
    row.locator("button:has-text('审批通过')").click()
    page.wait_for_load_state()
    assert "已审批" in page.inner_text("main")
    assert page.locator("table.queue tbody tr", has_text=APPLICATION).count() == 0
    assert _status(live, PersonPayment, live.ids["payment"]) == "NOT_SENT"
    page.screenshot(path=str(shots / "accountant-assistance-payments-done.png"), full_page=True)


def test_a_hospital_records_documents_and_confirms_its_statement(
    live: LiveServer, chromium: Any, shots: Path
) -> None:
    page = _log_in(live, chromium, "h2")
    page.click("nav.main-nav >> text=救助结算单")
    assert "A9" in page.inner_text("#documents")
    page.screenshot(path=str(shots / "hospital-assistance-statements.png"), full_page=True)
    page.click("#documents button:has-text('登记')")
    assert "材料已登记" in page.inner_text("main")
    assert "材料齐全" in page.inner_text("#documents")
    page.click(f"a[href='/console/hospital/assistance-statements/{live.ids['other']}']")
    assert "救助结算单" in page.locator("h1").inner_text()
    page.fill("input[name=reference]", "QR-2026-03")
    page.click("button:has-text('确认救助结算单')")
    assert "已确认本救助结算单" in page.inner_text("main")
    assert _status(live, AssistanceStatement, live.ids["other"]) == "CONFIRMED"
    _no_overflow(page)
    page.screenshot(path=str(shots / "hospital-assistance-statement.png"), full_page=True)
    accountant = _log_in(live, chromium, "acc")
    accountant.goto(f"{live.url}/console/fund/assistance-statements/{live.ids['other']}")
    assert "审批通过" in accountant.inner_text("#approve")
    accountant.screenshot(path=str(shots / "accountant-assistance-statement.png"), full_page=True)
    accountant.click("nav.main-nav >> text=待审批")
    href = f"/console/fund/assistance-statements/{live.ids['other']}"
    row = accountant.locator("table.queue tbody tr", has=accountant.locator(f'a[href="{href}"]'))
    assert "救助结算单" in row.inner_text() and "医疗救助" in row.inner_text()
    _no_overflow(accountant)
    accountant.screenshot(path=str(shots / "accountant-queue.png"), full_page=True)
    row.locator("button:has-text('审批通过')").click()
    accountant.wait_for_load_state()
    assert "已审批：救助结算单 2026年3月" in accountant.inner_text("main")
    assert _status(live, AssistanceStatement, live.ids["other"]) == "SETTLED"  # amount 0
