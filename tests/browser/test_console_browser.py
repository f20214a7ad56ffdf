"""The console in a real browser (Debian's Chromium, JavaScript off): log in, the 首页, the lock,
the idle timeout, CSRF, hospital scoping, logout, an XLSX download opened with openpyxl."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import LiveServer
from tests.support.console import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(live: LiveServer, browser: Any, name: str, password: str = PASSWORD) -> Any:
    page = live.new_page(browser)
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_log_in_and_see_the_home_page(live: LiveServer, chromium: Any) -> None:
    page = _log_in(live, chromium, "h1")
    assert page.url == f"{live.url}/console/"
    assert page.title() == "首页 · 医保基金结算工作台"
    assert page.inner_text("h1").startswith("宁夏测试医院")
    chart = page.locator(
        "svg.chart[role=img]"
    )  # the hospital's 首页: tests/browser/test_hospital_*
    assert chart.count() == 1 and "每日到账" in (chart.locator("title").first.text_content() or "")
    page.click("nav.main-nav >> text=月度结算单")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 7  # H001's seven statements, H002's none
    first_amount = page.locator("table.list tbody tr td.num .amount").first
    assert first_amount.inner_text().startswith("¥")
    assert first_amount.evaluate("e => getComputedStyle(e.parentElement).textAlign") == "right"
    page.select_option("select[name=status]", "PAID")
    page.click("form.filters button[type=submit]")
    assert page.locator("table.list tbody tr").count() == 3
    assert "status=PAID" in page.url
    assert live.outside == []


def test_five_wrong_passwords_lock_the_name(live: LiveServer, chromium: Any) -> None:
    page = _log_in(live, chromium, "locky", "wrong-password")
    for _ in range(4):
        assert "用户名或密码不正确" in page.inner_text(".errors")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
    assert "已锁定" in page.inner_text(".errors")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert "已锁定" in page.inner_text(".errors")  # the right password too, for 15 minutes
    assert "/console/login" in page.url


def test_the_idle_timeout_logs_out(live: LiveServer, chromium: Any) -> None:
    page = _log_in(live, chromium, "idle")
    assert page.url == f"{live.url}/console/"
    live.clock.advance(timedelta(minutes=29))
    page.reload()
    assert page.url == f"{live.url}/console/"  # 29 minutes idle: still in
    live.clock.advance(timedelta(minutes=30, seconds=1))
    page.reload()
    assert "/console/login" in page.url and "expired=1" in page.url
    assert "已自动退出" in page.inner_text("main")


def test_a_post_without_the_csrf_token_is_403(live: LiveServer, chromium: Any) -> None:
    page = _log_in(live, chromium, "acc")
    refused = page.request.post(f"{live.url}/console/logout", form={"next": "/console/"})
    assert refused.status == 403 and "表单已失效" in refused.text()
    forged = page.request.post(f"{live.url}/console/logout", form={"csrf_token": "0" * 64})
    assert forged.status == 403
    page.reload()
    assert page.url == f"{live.url}/console/"  # still logged in


def test_a_hospital_gets_404_for_another_hospitals_statement(
    live: LiveServer, chromium: Any
) -> None:
    page = _log_in(live, chromium, "h1")
    own = page.goto(f"{live.url}/console/statements/{live.ids['own']}")
    assert own is not None and own.status == 200
    assert "月拨付金额" in page.inner_text("main")
    other = page.goto(f"{live.url}/console/statements/{live.ids['other']}")
    assert other is not None and other.status == 404
    assert "另一家医院" not in page.content() and "没有找到" in page.inner_text("main")


def test_logout(live: LiveServer, chromium: Any) -> None:
    page = _log_in(live, chromium, "h2")
    page.click("text=退出登录")
    assert "/console/login" in page.url and "您已安全退出" in page.inner_text("main")
    page.goto(f"{live.url}/console/")
    assert "/console/login" in page.url


def test_download_the_list_as_xlsx(live: LiveServer, chromium: Any, tmp_path: Path) -> None:
    page = _log_in(live, chromium, "h1")
    page.goto(f"{live.url}/console/hospital/statements?insutype=390")
    with page.expect_download() as download:
        page.click("text=导出 XLSX")
    target = tmp_path / "list.xlsx"
    download.value.save_as(target)
    assert download.value.suggested_filename == "月度结算单.xlsx"
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    headings = rows[1]
    assert rows[0][0] == "月度结算单 险种：居民医保"
    body = rows[2:]
    assert len(body) == 3 and {row[headings.index("险种")] for row in body} == {"居民医保（390）"}
    fund = [Decimal(str(row[headings.index("医保基金支付")])) for row in body]
    assert fund == [Decimal("300000.00")] * 3
