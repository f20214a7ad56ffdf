"""A hospital finance officer's month in a real browser (Debian's Chromium, JavaScript off, no
request leaving 127.0.0.1), on the world played through the services (tests/support/hospital):
log in and read the 首页, confirm a statement and see its status change, dispute another, open
a trace, appeal a deduction with a PDF, download and open an XLSX, print the 确认单, and find
another hospital's documents missing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from tests.browser.conftest import LiveServer, _serve
from tests.support import hospital

pytestmark = pytest.mark.browser
# Like conftest: without the package the browser tests are skipped (under CI the others fail).
expect = pytest.importorskip("playwright.sync_api").expect
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n" + b"% scan\n" * 300 + b"%%EOF\n"


@pytest.fixture(scope="module")
def world(chromium: Any) -> Iterator[LiveServer]:
    url, ids = hospital.template()
    with hospital.copy_of(url) as copy:
        engine = make_engine(copy)
        factory = make_sessionmaker(engine)
        clock = SimulatedClock(hospital.NOW)
        app = create_app(
            Settings(environment="test", database_url=copy), session_factory=factory, clock=clock
        )
        server, thread, port = _serve(app)
        try:
            yield LiveServer(f"http://127.0.0.1:{port}", clock, factory, ids)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            engine.dispose()


def _officer(world: LiveServer, browser: Any, name: str = "scenario-H001") -> Any:
    page = world.new_page(browser)
    page.goto(f"{world.url}/console/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", hospital.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{world.url}/console/", page.url
    return page


def test_the_home_page_shows_receipts_and_what_to_do(world: LiveServer, chromium: Any) -> None:
    page = _officer(world, chromium)
    assert page.inner_text("h1").startswith(hospital.H001)
    page.click("text=‹ 2026年4月")
    page.click("text=‹ 2026年3月")
    assert "month=2026-03" in page.url
    chart = page.locator("svg.chart[role=img]")
    assert "2026年3月每日到账" in (chart.locator("title").first.text_content() or "")
    titles = [t.text_content() for t in chart.locator("rect.bar title").all()]
    assert "9 日拨付：¥12,000.01" in titles  # two payments arrived on Monday the 9th
    assert "¥30,860.31" in page.inner_text(".figures")
    todo = page.locator("table.todo tbody tr")
    assert todo.count() == 7
    deadline = todo.filter(has_text="结算 S0408").locator("td").first
    assert "2026-05-09（周六）" in deadline.inner_text() and "还剩 2 天" in deadline.inner_text()
    amount = todo.first.locator("td.num .amount")
    assert amount.evaluate("e => getComputedStyle(e.parentElement).textAlign") == "right"
    assert world.outside == []


def test_confirm_a_statement_and_see_its_status_change(world: LiveServer, chromium: Any) -> None:
    page = _officer(world, chromium)
    page.click("text=确认月度结算单 2026-03（310）")
    assert page.url.endswith(f"/console/hospital/statements/{world.ids['statement']}")
    assert page.inner_text("h1 .status") == "待确认"
    rows = page.locator("table.explained tbody tr")
    assert rows.count() == 8 and "本期 8 笔住院结算" in rows.first.inner_text()
    page.fill("input[name=reference]", "QR-2026-03-001")
    page.click("text=确认无误")
    assert page.url.endswith("?done=confirmed")
    assert page.inner_text("h1 .status") == "已确认待审批"
    assert "已确认本月度结算单" in page.inner_text(".notice")
    assert page.locator("text=确认无误").count() == 0
    page.goto(f"{world.url}/console/hospital/statements?status=CONFIRMED")
    assert page.locator("table.list tbody tr").count() == 1


def test_dispute_a_statement_with_a_reason(world: LiveServer, chromium: Any) -> None:
    page = _officer(world, chromium)
    page.goto(f"{world.url}/console/hospital/statements/{world.ids['statement_390']}")
    page.fill("textarea[name=reason]", "住院天数与院内记录不符")
    page.click("button:has-text('提出异议')")
    assert page.url.endswith("?done=disputed")
    assert page.inner_text("h1 .status") == "有异议"
    assert "住院天数与院内记录不符" in page.inner_text("dl.facts")


def test_open_the_trace_of_a_settlement(world: LiveServer, chromium: Any) -> None:
    page = _officer(world, chromium)
    page.click("nav.main-nav >> text=结算明细")
    page.select_option("select[name=status]", "revoked")
    page.click("form.filters button[type=submit]")
    page.click("table.list >> text=S0303")
    steps = page.locator("ol.trace > li")
    assert [s.locator("h2").inner_text() for s in steps.all()] == [
        "结算上传",
        "已撤销",
        "日拨付金额",
        "日拨付汇总单",
        "支付指令与银行回单",
        "月度结算单",
        "审核扣款",
    ]
    assert "结算信息有误" in steps.nth(1).inner_text()
    assert "HD20260304" in steps.nth(4).inner_text()
    page.click("ol.trace >> text=2026年3月月度结算单")
    assert "/console/hospital/statements/" in page.url


def test_appeal_a_deduction_with_a_pdf(world: LiveServer, chromium: Any, tmp_path: Path) -> None:
    scan = tmp_path / "医嘱扫描件.pdf"
    scan.write_bytes(PDF)
    page = _officer(world, chromium)
    page.click("text=审核扣款可申诉：结算 S0408（规则 ZNSH-021）")
    page.fill("textarea[name=reason]", "该检查在医保支付范围内，医嘱见附件")
    page.set_input_files("input[name=attachment]", str(scan))
    page.click("text=提交申诉")
    assert page.url.endswith("?done=appealed")
    assert page.inner_text("h1 .status") == "申诉中"
    link = page.locator("table.files a", has_text="医嘱扫描件.pdf")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "back.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF
    assert download.value.suggested_filename == "医嘱扫描件.pdf"


def test_download_the_statement_as_xlsx(world: LiveServer, chromium: Any, tmp_path: Path) -> None:
    page = _officer(world, chromium)
    page.goto(f"{world.url}/console/hospital/statements/{world.ids['statement']}")
    with page.expect_download() as download:
        page.click("text=导出 XLSX")
    target = tmp_path / "statement.xlsx"
    download.value.save_as(target)
    book = load_workbook(target)
    rows = list(book["结算单"].iter_rows(values_only=True))
    assert rows[0][0].startswith(f"{hospital.H001}（H001） 2026-03 310 月度结算单")
    amounts = {row[0]: Decimal(str(row[1])) for row in rows[2:]}
    assert amounts["医保基金支付金额"] == Decimal("61100.51")
    assert amounts["减：已日拨付"] == Decimal("-26360.31")
    assert len(list(book["结算明细"].iter_rows())) == 9  # heading and 8 settlements


def test_the_confirmation_form_prints_on_one_a4_page(world: LiveServer, chromium: Any) -> None:
    page = _officer(world, chromium)
    page.goto(f"{world.url}/console/hospital/statements/{world.ids['statement']}")
    page.click("text=打印月度结算确认单")
    assert page.inner_text("h1") == "医疗保障基金月度结算确认单"
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()  # waits for the print styles to apply
    expect(page.locator(".form-hint")).to_be_hidden()
    assert page.locator(".seal-space").count() == 2
    assert page.locator(".seal-title").first.inner_text() == "定点医药机构（盖章）"
    capital = page.locator("td.capital").inner_text()
    assert capital == "人民币贰万玖仟伍佰捌拾伍元壹角柒分"
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) == 1, "one page"
    width, height = (float(v) for v in boxes[0])
    assert width < height and abs(width - 595) < 2  # A4 portrait (595 × 842 points)


def test_another_hospitals_urls_are_404(world: LiveServer, chromium: Any) -> None:
    page = _officer(world, chromium)
    for path in (
        f"/console/hospital/statements/{world.ids['statement_other']}",
        f"/console/statements/{world.ids['statement_other']}",
        f"/console/hospital/settlements/{world.ids['settlement_other']}",
        f"/console/hospital/clearings/{world.ids['clearing_other']}",
        f"/console/hospital/clearings/{world.ids['clearing_other']}/print",
    ):
        response = page.goto(f"{world.url}{path}")
        assert response is not None and response.status == 404, path
        assert "没有找到" in page.inner_text("main") and hospital.H002 not in page.content()
    own = page.goto(f"{world.url}/console/hospital/clearings/{world.ids['clearing']}")
    assert own is not None and own.status == 200
