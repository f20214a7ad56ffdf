"""A fund accountant's morning in a real browser (Debian's Chromium, JavaScript off), on the
world of tests/support/fund_world.py: approve a pushed daily batch and find it in the done
list; the maker of a batch cannot approve it and the page says why; a rejection without a
reason is refused in the page; record an appropriation and a repayment (one above the open
receivable refused in Chinese); re-approve a failed statement payment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.clock import SimulatedClock
from app.config import Settings
from app.daily.models import DailyBatch
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from app.monthly.models import MonthlyStatement
from tests.browser.conftest import LiveServer, _serve
from tests.support import fund_world
from tests.support.console import PASSWORD
from tests.support.databases import fresh_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fund(chromium: Any) -> Iterator[LiveServer]:
    with fresh_database() as url:
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as session:
            ids = fund_world.seed(session)
        clock = SimulatedClock(fund_world.NOW)
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


def _log_in(live: LiveServer, browser: Any, name: str) -> Any:
    page = live.new_page(browser)
    page.goto(f"{live.url}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{live.url}/console/"
    return page


def _status(live: LiveServer, model: type, doc_id: int) -> str:
    with live.factory() as session:
        return str(session.scalars(select(model.status).where(model.id == doc_id)).one())


def _row(page: Any, href: str) -> Any:
    return page.locator("table.queue tbody tr", has=page.locator(f'a[href="{href}"]'))


def test_approve_a_pushed_batch_and_see_it_done(fund: LiveServer, chromium: Any) -> None:
    page = _log_in(fund, chromium, "acc")
    assert page.locator("h1").inner_text().startswith("基金财务工作台")
    page.click("nav.main-nav >> text=待审批")
    href = f"/console/fund/batches/{fund.ids['batch']}"
    row = _row(page, href)
    assert "2026-03-09（周一） 14:30" in row.inner_text() and "今天" in row.inner_text()
    assert "¥9,000.00" in row.inner_text() and "2 家机构" in row.inner_text()
    row.locator("button:has-text('审批通过')").click()
    page.wait_for_load_state()
    assert "已审批：日拨付批次 2026-03-06" in page.inner_text("main")
    assert _row(page, href).count() == 0
    done = page.locator("#done tbody tr", has=page.locator(f'a[href="{href}"]'))
    assert done.count() == 1 and "审批" in done.inner_text() and "acc" in done.inner_text()
    assert _status(fund, DailyBatch, fund.ids["batch"]) == "APPROVED"
    assert fund.outside == []


def test_the_maker_of_a_batch_cannot_approve_it(fund: LiveServer, chromium: Any) -> None:
    page = _log_in(fund, chromium, "zhang")
    page.goto(f"{fund.url}/console/fund/batches/{fund.ids['zhang_batch']}")
    button = page.locator("#approve button:has-text('审批通过')")
    assert button.is_disabled()
    why = page.locator("#approve .refusal").inner_text()
    assert "您推送了本批次" in why and "须由另一位基金财务审批" in why
    assert "本批次制单人：zhang" in page.inner_text("#approve")
    page.goto(f"{fund.url}/console/fund/queue")
    row = _row(page, f"/console/fund/batches/{fund.ids['zhang_batch']}")
    assert row.locator("button:has-text('审批通过')").is_disabled()
    assert "您是本单据的制单人" in row.inner_text()
    assert _status(fund, DailyBatch, fund.ids["zhang_batch"]) == "PUSHED"


def test_a_rejection_without_a_reason_is_refused(fund: LiveServer, chromium: Any) -> None:
    page = _log_in(fund, chromium, "acc2")
    page.goto(f"{fund.url}/console/fund/batches/{fund.ids['zhang_batch']}")
    reason = page.locator("#reject textarea[name=reason]")
    assert reason.get_attribute("required") is not None  # the browser asks first
    reason.fill("   ")  # blanks pass the browser's check; the service's page refuses them
    page.click("#reject button:has-text('退回批次')")
    page.wait_for_load_state()
    assert "请填写退回原因" in page.inner_text(".errors")
    assert _status(fund, DailyBatch, fund.ids["zhang_batch"]) == "PUSHED"
    page.click("a:has-text('建议暂缓')")  # the line's hint for the operator, who holds lines back
    page.wait_for_url("**hold=H001**")
    assert "建议暂缓拨付：宁夏测试医院（H001）" in page.input_value("#reject textarea")


def test_record_an_appropriation_and_a_repayment(fund: LiveServer, chromium: Any) -> None:
    page = _log_in(fund, chromium, "acc")
    page.click("nav.main-nav >> text=资金")
    balance = page.locator("table.list tbody tr").first.locator("td.num").first
    assert balance.inner_text() == "¥50,000,000.00"
    form = page.locator("#appropriations form")
    form.locator("select[name=fund]").select_option("640100:310")
    form.locator("input[name=amount]").fill("2500000.00")
    form.locator("input[name=reference]").fill("BK-2026-0309")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "已登记基金划入" in page.inner_text("main")
    assert balance.inner_text() == "¥52,500,000.00"
    assert "BK-2026-0309" in page.inner_text("#appropriations")

    row = page.locator("#receivables tbody tr", has_text="H002")
    assert "¥1,500.00" in row.inner_text()
    row.locator("input[name=amount]").fill("2000.00")
    row.locator("input[name=receipt_no]").fill("HK-0309-01")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "还款金额超过该机构未结清的应收款，不能登记。" in page.inner_text(".errors")
    row = page.locator("#receivables tbody tr", has_text="H002")
    assert row.locator("input[name=amount]").input_value() == "2000.00"  # kept to correct
    row.locator("input[name=amount]").fill("1500.00")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "已登记还款" in page.inner_text("main")
    assert "没有应收医疗机构款" in page.inner_text("#receivables")


def test_reapprove_a_failed_statement_payment(fund: LiveServer, chromium: Any) -> None:
    page = _log_in(fund, chromium, "acc2")
    page.click("nav.main-nav >> text=支付监控")
    section = page.locator("#reapprove")
    row = section.locator("tbody tr", has_text="H001")
    assert "收款账户状态异常" in row.inner_text() and "¥367,654.33" in row.inner_text()
    row.locator("button:has-text('重新审批')").click()
    page.wait_for_load_state()
    assert "已重新审批" in page.inner_text("main")
    assert "没有拨付失败待重新审批的单据" in page.inner_text("#reapprove")
    assert _status(fund, MonthlyStatement, fund.ids["failed_statement"]) == "APPROVED"
    page.goto(f"{fund.url}/console/fund/statements/{fund.ids['failed_statement']}")
    history = page.inner_text("table.history")
    assert "银行支付失败" in history and "重新审批" in history and "acc2" in history
