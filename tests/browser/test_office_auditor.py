"""The auditor in a real browser: every console page (every GET route of the app, samples that
exist) shows no POST form but the logout; the ledger pages read what the ledger holds and the
verification runs from a button (a GET form: a read)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.config import Settings
from app.main import create_app
from tests.browser.conftest import LiveServer
from tests.browser.office import log_in, office_server, post_forms

pytestmark = pytest.mark.browser

SAMPLES = {
    "code": "H001",
    "region_code": "640100",
    "insutype": "310",
    "year": "2026",
    "setl_id": "S1",
    "rule_code": "R01",
    "name": "op",
    "rest": "nowhere",
    "batch_id": "999999",  # the fund pages' own tests show the auditor their real documents
    "clearing_id": "999999",
    "settlement_id": "999999",
    "item_id": "999999",
    "attachment_id": "999999",
    "psn_no": "P404",  # the assistance pages' own tests show the auditor a real person
    "reference": "RT-NONE",  # no such clearing: its notice is a 404
}


@pytest.fixture(scope="module")
def live(chromium: Any) -> Iterator[LiveServer]:
    with office_server() as server:
        yield server


def console_pages(ids: dict[str, int]) -> list[str]:
    """Every GET route of the console with sample values filled in (and the verification run,
    and a day chosen on the calendar: the states that show the most)."""
    app = create_app(Settings(environment="test", database_url="sqlite://"))
    samples = {**SAMPLES, "entry_id": str(ids["entry"]), "statement_id": str(ids["statement"])}
    paths = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        path = context.path
        if not path.startswith("/console"):
            continue
        for name, value in samples.items():
            path = path.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
        assert "{" not in path, f"add a sample for {path}"
        paths.append(path)
    return [*sorted(paths), "/console/ledger/verify?run=1", "/console/calendar/2026?day=2026-03-16"]


def test_the_auditor_sees_no_write_control_on_any_page(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "aud")
    visited = []
    for path in console_pages(live.ids):
        if path.endswith((".xlsx", ".csv")) or path == "/console/login":
            continue  # downloads, not pages; the login form is everyone's way in
        response = page.goto(f"{live.url}{path}")
        assert response is not None
        assert post_forms(page) == ["/console/logout"], (path, post_forms(page))
        assert page.locator("input[type=file], input[type=password]").count() == 0, path
        visited.append((path, response.status))
    # the auditor reads every page but the operator's import form (403) and the 404 page
    # the hospital's own pages are the hospital's (403 for every staff role)
    hospital = {path: status for path, status in visited if path.startswith("/console/hospital/")}
    assert set(hospital.values()) == {403}, hospital
    not_read = {
        path: status
        for path, status in visited
        if status != 200 and not path.startswith("/console/hospital/")
    }
    assert not_read == {
        "/console/audits/import": 403,
        "/console/nowhere": 404,
        "/console/fund/batches/999999": 404,
        "/console/fund/batches/999999/lines/H001": 404,
        "/console/fund/clearings/999999": 404,
        "/console/audit-attachments/999999": 404,
        "/console/assistance/persons/P404": 404,
        "/console/assistance/persons/P404/years/2026/print": 404,
        "/console/assistance/clearings/RT-NONE/notice": 404,
        f"/console/fund/assistance-statements/{live.ids['statement']}": 404,  # a monthly one
    }, not_read
    assert len(visited) >= 26  # grows with every new page
    assert live.outside == []


def test_the_auditors_home_and_ledger_pages(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "aud")
    assert page.inner_text("h1").startswith("审计工作台")
    assert "平衡" in page.inner_text(".ok-box")
    page.click("button:text('运行校验')")
    assert "/console/ledger/verify?run=1" in page.url
    assert "余额、哈希链与试算平衡全部一致" in page.inner_text("#result")
    page.click("nav.main-nav >> text=科目余额")
    page.select_option("select[name=name]", "bank")
    page.click("form.filters button[type=submit]")
    assert page.locator("table.list tbody tr").count() == 1  # accounts exist once posted to
    page.fill("input[name=as_of]", "2026-03-01")
    page.click("form.filters button[type=submit]")
    assert "截至 2026-03-01（周日） 日终" in page.inner_text("h1")
    assert "¥50,000,000.00" not in page.inner_text("table.list")
    page.goto(f"{live.url}/console/ledger/accounts?name=bank&insutype=310")
    page.click("text=bank:640100:310")
    assert "财政拨入" in page.inner_text("table.list")
    page.click("table.list >> text=appropriation:BK-2026-001")
    assert "document=appropriation" in page.url
    page.click(f"a:text-is('{live.ids['entry']}')")
    assert "本分录哈希" in page.inner_text("main")
    page.click("nav.main-nav >> text=试算平衡")
    assert "平衡" in page.inner_text(".ok-box")
    assert page.inner_text("tfoot td.num >> nth=0") == page.inner_text("tfoot td.num >> nth=1")
    page.select_option("select[name=insutype]", "390")
    page.click("form.filters button[type=submit]")
    assert "还没有记账" in page.inner_text("table.list")  # nothing posted to 390 yet
    page.click("nav.main-nav >> text=审计日志")
    page.select_option("select[name=action]", "login")
    page.click("form.filters button[type=submit]")
    assert "aud" in page.inner_text("table.list tbody")
