"""The hospital finance officer's pages over HTTP, on a world played through the services
(tests/support/hospital.py): every page renders from the stored documents, every write goes
through the domain rule, and another hospital's documents are a 404, page by page."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.annual.models import AnnualClearing
from app.db import transaction
from app.monthly.models import AuditAttachment, AuditItem, Declaration, MonthlyStatement
from app.trail.models import AuditEvent
from tests.support.console import csrf_of
from tests.support.daily import settle
from tests.support.hospital import H001, H002, World, log_in, world_client

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n" + b"%" * 2000 + b"\n%%EOF\n"


@pytest.fixture
def world() -> Iterator[World]:
    with world_client() as built:
        log_in(built.client, "h1")
        yield built


def _text(html: str) -> str:
    """The page's words without tags (for assertions on what a person reads)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _post(world: World, page: str, action: str, **data: Any) -> Any:
    csrf = csrf_of(world.client.get(page).text)
    files = data.pop("files", None)
    return world.client.post(
        action, data={"csrf_token": csrf, **data}, files=files, follow_redirects=False
    )


def _one(world: World, model: Any, row_id: int) -> Any:
    with transaction(world.factory) as session:
        row = session.get(model, row_id)
        session.expunge(row)
        return row


# --- every page, and scoping -------------------------------------------------------------------


def _pages(ids: dict[str, Any]) -> list[str]:
    s, st, c, a = ids["settlement"]["S0302"], ids["statement"], ids["clearing"], ids["audit_open"]
    return [
        "/console/",
        "/console/?month=2026-03",
        "/console/hospital/settlements",
        f"/console/hospital/settlements/{s}",
        "/console/hospital/daily",
        "/console/hospital/statements",
        f"/console/hospital/statements/{st}",
        f"/console/hospital/statements/{st}/print",
        "/console/hospital/audits",
        f"/console/hospital/audits/{a}",
        "/console/hospital/clearings",
        f"/console/hospital/clearings/{c}",
        f"/console/hospital/clearings/{c}/print",
        "/console/hospital/account",
        "/console/hospital/declarations",
    ]


def test_every_page_renders_in_chinese_with_nothing_from_outside(world: World) -> None:
    for path in _pages(world.ids):
        page = world.client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert '<html lang="zh-CN">' in page.text and "<script" not in page.text, path
        assert not re.search(r'(src|href|action)="(https?:)?//', page.text), path
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert H001 in page.text or "H001" in page.text, path


def test_another_hospitals_documents_are_404_page_by_page(world: World) -> None:
    ids = world.ids
    others = [
        f"/console/hospital/statements/{ids['statement_other']}",
        f"/console/hospital/statements/{ids['statement_other']}/print",
        f"/console/hospital/statements/{ids['statement_other']}/export.xlsx",
        f"/console/statements/{ids['statement_other']}",
        f"/console/hospital/settlements/{ids['settlement_other']}",
        f"/console/hospital/clearings/{ids['clearing_other']}",
        f"/console/hospital/clearings/{ids['clearing_other']}/print",
        f"/console/hospital/audits/{ids['audit_other']}",
    ]
    for path in others:
        page = world.client.get(path)
        assert page.status_code == 404, path
        assert "没有找到" in page.text and H002 not in page.text, path
    for action in (
        f"/console/hospital/statements/{ids['statement_other']}/confirm",
        f"/console/hospital/statements/{ids['statement_other']}/dispute",
        f"/console/hospital/clearings/{ids['clearing_other']}/confirm",
        f"/console/hospital/audits/{ids['audit_other']}/appeal-upload",
    ):
        refused = _post(world, "/console/", action, reason="试试", reference="X")
        assert refused.status_code == 404, action
    with transaction(world.factory) as session:
        statement = session.get(MonthlyStatement, ids["statement_other"])
        assert statement is not None and statement.status == "COMPUTED"
        clearing = session.get(AnnualClearing, ids["clearing_other"])
        assert clearing is not None and clearing.status == "COMPUTED"
    # the lists show only the institution's own rows
    for path in ("/console/hospital/settlements", "/console/hospital/daily"):
        assert (
            "T0304" not in world.client.get(path).text and "H002" not in world.client.get(path).text
        )


def test_the_hospital_pages_are_the_hospitals(world: World) -> None:
    log_in(world.client, "acc")
    for path in _pages(world.ids)[2:]:
        page = world.client.get(path)
        assert page.status_code == 403, path
        assert "此页面不对您的角色开放" in page.text
    refused = _post(
        world, "/console/", f"/console/hospital/statements/{world.ids['statement']}/confirm"
    )
    assert refused.status_code == 403
    home = world.client.get("/console/")
    assert home.status_code == 200 and "待办事项" not in home.text  # the fund's own 首页


# --- 首页 --------------------------------------------------------------------------------------


def test_home_shows_the_months_receipts_and_the_to_dos(world: World) -> None:
    march = _text(world.client.get("/console/?month=2026-03").text)
    # March's SUCCESS daily payments of H001 (both funds); the returned one is not counted
    assert "到账合计 ¥30,860.31" in march and "日拨付 ¥30,860.31" in march
    assert "到账天数 7 天" in march
    home = world.client.get("/console/")
    assert "2026年5月到账" in home.text and "<svg" in home.text
    todo = _text(home.text)
    assert "确认月度结算单 2026-03（310）" in todo and "确认月度结算单 2026-03（390）" in todo
    assert "审核扣款可申诉：结算 S0408" in todo and "2026-05-09（周六）" in todo
    assert "还剩 2 天" in todo
    assert "日拨付失败：D260310-6401310-H001" in todo and "收款账户状态异常" in todo
    assert "日拨付被退票：D260316-6401310-H001" in todo and "收款账户已销户" in todo
    assert "确认年度清算 2025年度（310）" in todo and "2026-05-31" in todo
    assert "S0420" not in todo and "T0420" not in todo  # H002's deduction
    bad = world.client.get("/console/?month=2026-13")
    assert bad.status_code == 422 and "请按“2026-09”的格式填写" in bad.text


def test_home_lists_days_left_unreconciled_before_the_deadline(world: World) -> None:
    with transaction(world.factory) as session:  # a settlement nobody reconciled yet
        settle(session, "H001", "S0506", 250_000, date(2026, 5, 6))
    todo = _text(world.client.get("/console/").text)
    assert "对账：2026-05（310）有 1 天未对账" in todo and "申报截止 2026-06-15" in todo


# --- 结算明细 and the trace ---------------------------------------------------------------------


def test_settlements_filter_by_status_date_and_type(world: World) -> None:
    def setl_ids(query: str) -> list[str]:
        page = world.client.get(f"/console/hospital/settlements{query}")
        assert page.status_code == 200, query
        return re.findall(r">([SR]\d{4})</a>", page.text)

    assert len(setl_ids("")) == 15
    assert setl_ids("?status=revoked") == ["S0303"]
    assert setl_ids("?status=batched") == ["S0316", "S0310"]  # returned, failed
    assert "S0302" in setl_ids("?status=paid") and "S0303" not in setl_ids("?status=paid")
    assert setl_ids("?status=accepted") == []
    assert setl_ids("?insutype=390") == ["R0413", "R0318", "R0305"]
    assert setl_ids("?from=2026-03-06&to=2026-03-10") == ["S0310", "S0307", "S0306"]
    assert setl_ids("?period=2026-04&insutype=310") == ["S0428", "S0422", "S0415", "S0408"]
    first = world.client.get("/console/hospital/settlements?limit=4")
    assert len(re.findall(r">([SR]\d{4})</a>", first.text)) == 4 and "下一页" in first.text
    bad = world.client.get("/console/hospital/settlements?from=2026-04-01&to=2026-03-01")
    assert bad.status_code == 422 and "截止日期不能早于起始日期" in bad.text


def test_the_trace_follows_a_settlement_to_its_statement(world: World) -> None:
    ids = world.ids["settlement"]
    paid = _text(world.client.get(f"/console/hospital/settlements/{ids['S0302']}").text)
    for words in (
        "¥10,000.00 × 日拨付比例 60% = ¥6,000.00",
        "D260302-6401310-H001",
        "已到账",
        "2026年3月月度结算单",
        "计入“已日拨付”",
        "ZNSH-001",
        "超标准收费",
    ):
        assert words in paid, words
    assert "HD2026030326" in paid  # the bank's receipt number
    revoked = _text(world.client.get(f"/console/hospital/settlements/{ids['S0303']}").text)
    assert "已撤销" in revoked and "结算信息有误" in revoked
    assert "以负数计入 2026年3月" in revoked and "-¥3,333.33" in revoked
    failed = _text(world.client.get(f"/console/hospital/settlements/{ids['S0310']}").text)
    assert "银行拨付失败：收款账户状态异常" in failed and "由月度结算支付" in failed
    returned = _text(world.client.get(f"/console/hospital/settlements/{ids['S0316']}").text)
    assert "银行退票：收款账户已销户" in returned


def test_the_settlements_download_as_xlsx(world: World) -> None:
    response = world.client.get("/console/hospital/settlements.xlsx?status=paid&insutype=310")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "结算明细 险种：职工医保；状态：已拨付"
    headings = rows[1]
    body = rows[2:]
    assert len(body) == 9 and {r[headings.index("状态")] for r in body} == {"已拨付"}
    total = sum(Decimal(str(r[headings.index("医保基金支付")])) for r in body)
    assert total == Decimal("77500.51")


# --- 日拨付到账 --------------------------------------------------------------------------------


def test_daily_lines_show_pay_date_receipt_and_reason(world: World) -> None:
    page = _text(world.client.get("/console/hospital/daily").text)
    assert "2026-03-10（周二） 职工医保（310） 2026-03-11（周三）" in page
    assert "收款账户状态异常" in page and "收款账户已销户" in page
    failed = world.client.get("/console/hospital/daily?status=FAILED").text
    assert failed.count("<tr>") == 2  # heading and one line
    returned = _text(world.client.get("/console/hospital/daily?status=RETURNED").text)
    assert "HD20260317" in returned and "退票" in returned
    xlsx = world.client.get("/console/hospital/daily.xlsx?from=2026-03-01&to=2026-03-31")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    headings = rows[1]
    assert len(rows) - 2 == 10  # H001's lines of March, both insurance types
    assert "支付指令号" in headings and "电子回单号" in headings


# --- 月度结算单 --------------------------------------------------------------------------------


def test_the_statement_explains_every_component(world: World) -> None:
    st = world.ids["statement"]
    page = _text(world.client.get(f"/console/hospital/statements/{st}").text)
    for words in (
        "医保基金支付金额 ¥61,100.51 本期 8 笔住院结算",
        "其中 1 笔撤销以负数计入（-¥3,333.33）",
        "减：质量保证金 -¥3,055.03 按 5% 预留",
        "月拨付金额（按比例） ¥58,045.48",
        "减：审核扣款 -¥1,100.00 本期及以前结算期已终审、尚未扣减的智能审核扣款 2 项",
        "减：已日拨付 -¥26,360.31",
        "减：药耗招采垫付 -¥1,000.00",
        "加：退票 ¥0.00",
        "减：下期抵扣 ¥0.00",
        "月拨付金额 ¥29,585.17 人民币贰万玖仟伍佰捌拾伍元壹角柒分",
        "待确认",
        "ADV-2026-03-H001",
    ):
        assert words in page, words
    assert "确认无误" in page and "提出异议" in page


def test_confirm_a_statement_and_see_the_status_change(world: World) -> None:
    st = world.ids["statement"]
    page = f"/console/hospital/statements/{st}"
    done = _post(world, page, f"{page}/confirm", reference="QR-2026-03-001")
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=confirmed"
    shown = _text(world.client.get(done.headers["location"]).text)
    assert "已确认本月度结算单" in shown and "已确认待审批" in shown
    assert "确认单编号 QR-2026-03-001" in shown and "确认无误" not in shown
    statement = _one(world, MonthlyStatement, st)
    assert statement.status == "CONFIRMED" and statement.confirmed_by == "scenario-H001"
    assert statement.confirmation_reference == "QR-2026-03-001"
    late = _post(world, page, f"{page}/dispute", reason="晚了")
    assert late.status_code == 409 and "该单据的状态已变化" in late.text
    assert _one(world, MonthlyStatement, st).status == "CONFIRMED"
    with transaction(world.factory) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_key == str(st))
        ).all()
    assert actions.count("statement.confirm") == 1


def test_dispute_needs_a_reason(world: World) -> None:
    st = world.ids["statement_390"]
    page = f"/console/hospital/statements/{st}"
    empty = _post(world, page, f"{page}/dispute", reason="   ")
    assert empty.status_code == 422 and "请填写异议原因" in empty.text
    too_long = _post(world, page, f"{page}/dispute", reason="长" * 301)
    assert too_long.status_code == 422 and "最多 300 个字符" in too_long.text
    assert _one(world, MonthlyStatement, st).status == "COMPUTED"
    done = _post(world, page, f"{page}/dispute", reason="审核扣款与院内记录不符")
    assert done.status_code == 303
    shown = _text(world.client.get(done.headers["location"]).text)
    assert "有异议" in shown and "审核扣款与院内记录不符" in shown
    assert _one(world, MonthlyStatement, st).dispute_reason == "审核扣款与院内记录不符"


def test_a_post_without_the_csrf_token_changes_nothing(world: World) -> None:
    st = world.ids["statement"]
    refused = world.client.post(f"/console/hospital/statements/{st}/confirm", data={})
    assert refused.status_code == 403 and "表单已失效" in refused.text
    assert _one(world, MonthlyStatement, st).status == "COMPUTED"


def test_the_confirmation_form_prints_with_a_place_for_the_seal(world: World) -> None:
    st = world.ids["statement"]
    page = world.client.get(f"/console/hospital/statements/{st}/print")
    text = _text(page.text)
    assert "医疗保障基金月度结算确认单" in text and "定点医药机构（盖章）" in text
    assert "医保经办机构（盖章）" in text and "人民币贰万玖仟伍佰捌拾伍元壹角柒分" in text
    assert "打印日期：2026-05-07（周四）" in text and 'class="paper-form"' in page.text


def test_the_statement_downloads_as_xlsx(world: World) -> None:
    st = world.ids["statement"]
    response = world.client.get(f"/console/hospital/statements/{st}/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["结算单", "结算明细", "审核扣款", "药耗招采垫付"]
    components = list(book["结算单"].iter_rows(values_only=True))[2:]
    counted = [Decimal(str(r[1])) for r in components if r[0] != "月拨付金额（按比例）"]
    assert sum(counted) == Decimal("29585.17")
    settlements = list(book["结算明细"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in settlements][:2] == ["S0302", "S0303"] and len(settlements) == 8
    audits = list(book["审核扣款"].iter_rows(values_only=True))[1:]
    assert sorted(Decimal(str(r[4])) for r in audits) == [Decimal("300.00"), Decimal("800.00")]


# --- 审核扣款 ----------------------------------------------------------------------------------


def test_appeal_a_deduction_with_a_pdf(world: World) -> None:
    item_id = world.ids["audit_open"]
    page = f"/console/hospital/audits/{item_id}"
    assert "提交申诉" in world.client.get(page).text
    done = _post(
        world,
        page,
        f"{page}/appeal-upload",
        reason="该项目在医保支付范围内，见附件",
        files={"attachment": ("医嘱说明.pdf", PDF, "application/pdf")},
    )
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=appealed"
    shown = world.client.get(done.headers["location"]).text
    assert "已提交申诉" in shown and "医嘱说明.pdf" in shown and "申诉中" in shown
    item = _one(world, AuditItem, item_id)
    assert item.status == "APPEALED" and item.appeal_reason == "该项目在医保支付范围内，见附件"
    with transaction(world.factory) as session:
        stored = session.scalars(
            select(AuditAttachment).where(AuditAttachment.audit_item_id == item_id)
        ).one()
        file_id, digest = stored.id, stored.sha256
    assert digest == hashlib.sha256(PDF).hexdigest() and digest[:16] in shown
    download = world.client.get(f"/console/audit-attachments/{file_id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    log_in(world.client, "op")  # the fund's staff read it too
    assert world.client.get(f"/console/audit-attachments/{file_id}").content == PDF
    log_in(world.client, "h2")
    assert world.client.get(f"/console/audit-attachments/{file_id}").status_code == 404


def test_a_bad_file_refuses_the_appeal_and_writes_nothing(world: World) -> None:
    item_id = world.ids["audit_open_2"]
    page = f"/console/hospital/audits/{item_id}"
    for name, content, words in (
        ("scan.pdf", b"MZ this is not a pdf", "只能是 PDF、PNG 或 JPEG"),
        ("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "不能超过 5 MB"),
    ):
        refused = _post(
            world,
            page,
            f"{page}/appeal-upload",
            reason="理由",
            files={"attachment": (name, content, "application/pdf")},
        )
        assert refused.status_code == 422 and words in refused.text, name
    too_big = _post(
        world,
        page,
        f"{page}/appeal-upload",
        reason="理由",
        files={"attachment": ("huge.pdf", b"%PDF-" + b"0" * (7 * 1024 * 1024), "x")},
    )
    assert too_big.status_code == 413
    no_reason = _post(world, page, f"{page}/appeal-upload", reason="")
    assert no_reason.status_code == 422 and "请填写申诉理由" in no_reason.text
    item = _one(world, AuditItem, item_id)
    assert item.status == "INITIAL" and item.appealed_at is None
    with transaction(world.factory) as session:
        assert (
            session.scalars(
                select(AuditAttachment).where(AuditAttachment.audit_item_id == item_id)
            ).all()
            == []
        )
    plain = _post(world, page, f"{page}/appeal-upload", reason="不附文件也可以申诉")
    assert plain.status_code == 303 and _one(world, AuditItem, item_id).status == "APPEALED"
    more = _post(
        world,
        page,
        f"{page}/files-upload",
        files={"attachment": ("补充.png", b"\x89PNG\r\n\x1a\n" + b"1" * 64, "image/png")},
    )
    assert more.status_code == 303 and "补充.png" in world.client.get(page).text


def test_no_appeal_once_the_window_closed(world: World) -> None:
    item_id = world.ids["audit_open"]
    page = f"/console/hospital/audits/{item_id}"
    world.clock.advance(timedelta(days=3))  # 10 May: the window closed on the 9th at 23:59
    log_in(world.client, "h1")  # after the idle timeout
    shown = world.client.get(page).text
    assert "提交申诉" not in shown and "申诉期已于 2026-05-09（周六） 23:59 截止" in shown
    late = _post(world, page, f"{page}/appeal-upload", reason="晚了")
    assert late.status_code == 422 and "申诉期已过" in late.text
    assert _one(world, AuditItem, item_id).status == "INITIAL"


# --- 年度清算 ----------------------------------------------------------------------------------


def test_confirm_the_clearing_with_its_reference_and_print_it(world: World) -> None:
    cid = world.ids["clearing"]
    page = f"/console/hospital/clearings/{cid}"
    text = _text(world.client.get(page).text)
    for words in (
        "年度医保基金清算金额 ¥1,250,000.00",
        "减：已月度结算拨付 -¥1,180,000.00",
        "减：不予返还的质量保证金 -¥25,000.00",
        "年清算实付金额 ¥45,000.00 人民币肆万伍仟元整",
        "按考核返还 60%",
    ):
        assert words in text, words
    done = _post(world, page, f"{page}/confirm", reference="NQ-2025-H001-盖章")
    assert done.status_code == 303
    assert _one(world, AnnualClearing, cid).confirmation_reference == "NQ-2025-H001-盖章"
    assert "已确认年度清算结果" in world.client.get(done.headers["location"]).text
    printed = _text(world.client.get(f"{page}/print").text)
    assert "医疗保障基金年度清算确认书" in printed and "人民币肆万伍仟元整" in printed
    assert "定点医药机构（盖章）" in printed


# --- 往来对账单 --------------------------------------------------------------------------------


def test_the_account_statement_page_and_its_xlsx_agree(world: World) -> None:
    query = "?insutype=310&account=payable&from=2026-03-01&to=2026-03-31"
    page = _text(world.client.get(f"/console/hospital/account{query}").text)
    assert "期初余额 ¥0.00" in page and "payable:640100:310:H001" in page
    assert "银行退票 支付指令 D260316-6401310-H001 HD20260317" in page
    assert "日拨付汇总单 2026-03-02（1 笔）" in page
    response = world.client.get(f"/console/hospital/account.xlsx{query}")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    headings, body = rows[1], rows[2:]
    assert body[0][1] == "期初余额" and body[-1][1] == "期末余额"
    debit, credit, balance = (headings.index(h) for h in ("借方", "贷方", "余额"))
    running = Decimal(str(body[0][balance]))
    for row in body[1:-1]:
        running += Decimal(str(row[credit] or 0)) - Decimal(str(row[debit] or 0))
        assert Decimal(str(row[balance])) == running
    assert Decimal(str(body[-1][balance])) == running
    assert f"期末余额 ¥{running:,.2f}" in page
    receivable = world.client.get("/console/hospital/account?account=receivable")
    assert receivable.status_code == 200 and "该账户尚无任何发生额" in receivable.text
    bad = world.client.get("/console/hospital/account?from=2025-01-01&to=2026-03-01")
    assert bad.status_code == 422 and "一次最多 366 天" in bad.text


# --- 对账与申报 --------------------------------------------------------------------------------


def test_the_declare_button_follows_the_declaration_rule(world: World) -> None:
    april = world.client.get("/console/hospital/declarations")  # the first undeclared month
    assert "2026年4月" in april.text and "可以申报" in april.text
    assert re.search(r'<button type="submit">申报 2026年4月</button>', april.text)
    may = world.client.get("/console/hospital/declarations?period=2026-05")
    assert "该月尚未结束" in may.text and "disabled" in may.text
    march = world.client.get("/console/hospital/declarations?period=2026-03").text
    assert "已于 2026-04-10（周五）09:00 由 scenario-H001 申报" in _text(march)
    assert not re.search(r"<button[^>]*>申报 2026年3月</button>", march)
    forged = _post(
        world,
        "/console/hospital/declarations",
        "/console/hospital/declarations",
        insutype="310",
        period="2026-05",
    )
    assert forged.status_code == 422 and "该月尚未结束" in forged.text
    done = _post(
        world,
        "/console/hospital/declarations",
        "/console/hospital/declarations",
        insutype="310",
        period="2026-04",
    )
    assert done.status_code == 303 and "done=declared" in done.headers["location"]
    assert "已申报" in world.client.get(done.headers["location"]).text
    with transaction(world.factory) as session:
        assert (
            session.scalar(
                select(Declaration.declared_by).where(
                    Declaration.fixmedins_code == "H001", Declaration.period == "2026-04"
                )
            )
            == "scenario-H001"
        )
    days = _text(world.client.get("/console/hospital/declarations?period=2026-04").text)
    assert "2026-04-08（周三） 1 ¥9,000.00 已对账" in days
