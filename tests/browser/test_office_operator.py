"""The operator's month in a real browser (Debian's Chromium, JavaScript off): the calendar,
a smart-audit import (one bad row stores nothing; a good file stores every row), an appeal
reviewed, jobs run again for a date (and the API's refusal of a future date, in Chinese), an
alert acknowledged, an advance and an assessment recorded, an institution and a policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.monthly.models import AuditItem
from app.scheduling.models import JobRun
from tests.browser.conftest import LiveServer
from tests.browser.office import log_in, office_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(chromium: Any) -> Iterator[LiveServer]:
    with office_server() as server:
        yield server


def test_the_home_page_shows_alerts_jobs_and_appeals(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    assert page.inner_text("h1") == "医保经办工作台"
    counts = page.inner_text(".counts")
    assert "未解除告警\n1" in counts and "待复审\n1" in counts and "待合议\n1" in counts
    assert "次年工作日历未确认" in page.inner_text("main")
    assert page.locator("text=日拨付批次").count() >= 1
    nav = page.locator("nav.main-nav a").all_inner_texts()
    assert nav[:4] == ["首页", "告警", "任务", "工作日历"]
    assert live.outside == []


def test_override_a_day_and_confirm_the_year(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    page.click("nav.main-nav >> text=工作日历")
    assert page.url.endswith("/console/calendar/2026")
    assert page.locator("table.cal-month").count() == 12
    page.click("table.cal-month:nth-of-type(3) >> a:text-is('16')")  # Monday 16 March
    assert "2026-03-16（周一）" in page.inner_text("#override h2")
    page.select_option("select[name=working]", "0")
    page.fill("input[name=note]", "暴雪停工")
    page.click("text=保存设置")
    assert "已保存该日期的工作日设置" in page.inner_text(".notice")
    day = page.locator("td.cal-override a:text-is('16')")
    assert day.count() == 1 and "cal-off" in (day.locator("..").get_attribute("class") or "")
    assert "暴雪停工" in page.inner_text("#override")
    page.click("text=确认 2026 年工作日历")
    assert "已确认该年度工作日历" in page.inner_text(".notice")
    assert "已确认" in page.inner_text(".facts") and "op 于" in page.inner_text(".facts")
    assert page.locator("text=确认 2026 年工作日历").count() == 0


def _csv(rows: list[str]) -> dict[str, Any]:
    text = "机构编号,结算ID,规则编码,扣款金额,扣款原因\r\n" + "\r\n".join(rows)
    return {"name": "审核结果.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8-sig")}


def _audit_count(live: LiveServer) -> int:
    with live.factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditItem)) or 0)


def test_an_import_with_a_bad_row_stores_nothing_and_a_good_file_stores_all(
    live: LiveServer, chromium: Any
) -> None:
    before = _audit_count(live)
    page = log_in(live, chromium, "op")
    page.goto(f"{live.url}/console/audits")
    page.click("text=导入审核结果文件")
    page.set_input_files(
        "input[name=file]", _csv(["H001,S3,R07,10.00,超量", "H001,S4,R07,12.345,超量"])
    )
    page.click("text=检查并预览")
    assert "1 行有误，整个文件未导入" in page.inner_text("main")
    bad = page.locator("tr.row-error")
    assert bad.count() == 1
    assert "第 3 行" in bad.inner_text() and "金额：金额最多两位小数（到分）" in bad.inner_text()
    assert page.locator("text=确认导入").count() == 0
    assert _audit_count(live) == before

    page.set_input_files(
        "input[name=file]",
        _csv(["H001,S3,R07,10.00,超量", "H001,S4,R07,12.34,超量", "H002,S9,R07,8.00,分解住院"]),
    )
    page.click("text=检查并预览")
    assert "全部通过检查：新增 3 条" in page.inner_text(".ok-box")
    assert page.locator("table.list tbody tr").count() == 3
    assert _audit_count(live) == before  # a preview stores nothing
    page.click("text=确认导入 3 行")
    assert "审核结果已全部导入" in page.inner_text(".notice")
    assert _audit_count(live) == before + 3
    page.fill("input[name=fixmedins_code]", "H002")
    page.click("form.filters button[type=submit]")
    assert "S9" in page.inner_text("table.list tbody")


def test_review_an_appeal(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    page.goto(f"{live.url}/console/appeals")
    page.click("section.panel:first-of-type >> text=S1")
    assert "已按规定收费" in page.inner_text("main")
    page.fill("input[name=amount]", "200.00")
    page.click("text=保存复审结果")
    assert "金额只能逐级调低" in page.inner_text(".errors")
    page.fill("input[name=amount]", "60.00")
    page.click("text=保存复审结果")
    assert "复审结果已保存" in page.inner_text(".notice")
    assert "已终审" in page.inner_text(".facts") and "¥60.00" in page.inner_text(".facts")


def test_run_a_job_again_and_a_refused_future_date(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    page.goto(f"{live.url}/console/jobs")
    row = page.locator("#job-daily_batch")
    assert "从未运行" in row.inner_text() and "今天最晚：2026-03-05" in row.inner_text()
    row.locator("button:text('运行')").click()
    assert "任务已运行" in page.inner_text(".notice")
    row = page.locator("#job-daily_batch")
    assert "成功" in row.inner_text() and "2026-03-05（周四）" in row.inner_text()
    assert page.locator("#runs tbody tr").count() == 1
    row.locator("input[name=business_date]").fill("2026-03-05")
    row.locator("button:text('运行')").click()
    assert "未重复运行" in page.inner_text(".notice")
    row = page.locator("#job-daily_batch")
    row.locator("input[name=business_date]").fill("2026-03-05")
    row.locator("input[name=again]").check()
    row.locator("button:text('运行')").click()
    assert "任务已运行" in page.inner_text(".notice")
    with live.factory() as session:
        run = session.scalar(select(JobRun).where(JobRun.job_name == "daily_batch"))
        assert run is not None and (run.status, run.attempts) == ("SUCCEEDED", 2)
    row = page.locator("#job-daily_batch")
    row.locator("input[name=business_date]").fill("2026-03-09")
    row.locator("button:text('运行')").click()
    assert (
        "“日拨付批次”今天最晚只能为 2026-03-05 运行，不能为更晚的业务日期运行。"
        in page.inner_text(".errors")
    )
    assert page.locator("#job-daily_batch input[name=business_date]").input_value() == "2026-03-09"


def test_acknowledge_an_alert(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    page.click("nav.main-nav >> text=告警")
    row = page.locator(f"#alert-{live.ids['alert']}")
    assert "次年工作日历未确认" in row.inner_text()
    row.locator("text=确认知悉").click()
    assert "已确认知悉该告警" in page.inner_text(".notice")
    assert "op" in page.locator(f"#alert-{live.ids['alert']}").inner_text()
    with live.factory() as session:
        alert = session.get(Alert, live.ids["alert"])
        assert alert is not None and alert.acknowledged_by == "op"


def test_record_an_advance_and_an_assessment(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    page.click("nav.main-nav >> text=招采垫付")
    page.fill("input[name=fixmedins_code]", "H001")
    page.fill("input[name=period]", "2026-03")
    page.fill("input[name=amount]", "3,000")
    page.fill("input[name=reference]", "ZC-2026-001")
    page.click("button:text('登记')")
    assert "金额：金额请写成“1234.56”的形式（单位：元）" in page.inner_text(".errors")
    page.fill("input[name=amount]", "3000.00")
    page.click("button:text('登记')")
    assert "招采垫付已登记" in page.inner_text(".notice")
    assert "ZC-2026-001" in page.inner_text("table.list") and "¥3,000.00" in page.inner_text(
        "table.list"
    )
    page.click("nav.main-nav >> text=年度考核")
    page.fill("input[name=fixmedins_code]", "H001")
    page.fill("input[name=assessment_score]", "91.5")
    page.fill("input[name=credit_score]", "95")
    page.fill("input[name=clearing_amount]", "1200000.00")
    page.click("button:text('保存')")
    assert "年度考核结果已保存" in page.inner_text(".notice")
    assert "91.50" in page.inner_text("table.list") and "¥1,200,000.00" in page.inner_text(
        "table.list"
    )


def test_edit_an_institution_and_add_a_policy_version(live: LiveServer, chromium: Any) -> None:
    page = log_in(live, chromium, "op")
    page.click("nav.main-nav >> text=机构")
    page.click("text=H002")
    page.fill("input[name=bank_account_name]", "另一家医院（新户）")
    page.click("text=保存修改")
    assert "收款账户变更已提交" in page.inner_text(".notice")
    # the payee changes only once a second person approves it (issue 19)
    assert "另一家医院（新户）" not in page.inner_text(".facts")
    page.click("a:text('职工医保（310）')")
    page.wait_for_url("**/console/fund-ledgers/640100/310")
    page.wait_for_load_state()
    assert page.locator("table.list tbody tr").count() == 1
    page.fill("input[name=effective_from]", "2026-09-01")
    page.fill("input[name=daily_ratio]", "0.65")
    page.click("text=保存新版本")
    assert "已新增政策版本" in page.inner_text(".notice")
    assert page.locator("table.list tbody tr").count() == 2
    assert "0.65" in page.inner_text("table.list")
