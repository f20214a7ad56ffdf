"""The person's assistance statement of a year as one printable XLSX sheet
(个人医疗救助年度明细表; issue 22 item 6): 人员信息, 救助明细, 汇总, 清算记录, 支付记录,
应收余额 one below the other. Amounts are numbers in yuan with two decimals (`#,##0.00`,
from integer fen as app/xlsx.py writes them); A4 landscape, fitted to the page width."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.assistance.person_statement import PersonStatement
from app.assistance.person_status import STATUS_NAMES
from app.clock import shanghai
from app.xlsx import DATE_FORMAT, MONEY_FORMAT, fen_to_yuan

TITLE = "个人医疗救助年度明细表"
SECTIONS = ("人员信息", "救助明细", "汇总", "清算记录", "支付记录", "应收余额")
CATEGORY_NAMES = {
    "tekun": "特困供养人员",
    "orphan": "孤儿",
    "dibao": "低保对象",
    "low_income": "低收入",
    "poverty_registered": "建档立卡贫困人口",
    "expense_poverty": "支出型贫困",
}
VISIT_NAMES = {"inpatient": "住院", "outpatient": "门诊"}
KIND_NAMES = {"application": "救助申请", "top_up": "补差发放", "grant": "大病关怀救助"}
CLEARING_KINDS = {"realtime": "实时清算", "annual": "定时清算"}
RESOLUTIONS = {"next_period": "下期抵扣", "cash": "现金追款"}
ITEM_HEADINGS = (
    "日期", "项目编号", "医疗机构 / 发票", "就诊类型", "医疗费总额", "政策范围内金额",
    "基本医保统筹", "职工大额", "居民大病保险", "公务员补助", "企业补充", "其他支付",
    "医疗救助（垫付）", "个人账户", "个人现金", "救助基数（扣前）", "扣减", "综合减负分摊",
    "救助基数", "救助类别", "应救助金额",
)  # fmt: skip
ITEM_MONEY_FROM = 4  # columns 5.. are amounts except the category
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_SECTION_FONT = Font(bold=True, size=12)


class _Writer:
    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.row = 1

    def cell(self, column: int, value: Any, *, money: bool = False, bold: bool = False) -> None:
        if money and value is not None:
            value = fen_to_yuan(int(value))
        cell = self.sheet.cell(self.row, column, value)
        cell.border = _BORDER
        if money:
            cell.number_format = MONEY_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        if bold:
            cell.font = Font(bold=True)

    def section(self, name: str) -> None:
        self.row += 1
        self.sheet.cell(self.row, 1, name).font = _SECTION_FONT
        self.row += 1

    def headings(self, headings: Sequence[str]) -> None:
        for column, heading in enumerate(headings, start=1):
            cell = self.sheet.cell(self.row, column, heading)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.border = _BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.row += 1

    def pairs(self, pairs: Sequence[tuple[str, Any, bool]]) -> None:
        """Label / value rows (value is fen when the flag says money)."""
        for label, value, money in pairs:
            self.cell(1, label, bold=True)
            self.cell(2, value, money=money)
            self.row += 1

    def none(self) -> None:
        self.sheet.cell(self.row, 1, "无")
        self.row += 1


def _categories(found: PersonStatement) -> str:
    return "；".join(
        f"{CATEGORY_NAMES.get(h.category.value, h.category.value)} "
        f"{h.valid_from.isoformat()} 至 {h.valid_to.isoformat() if h.valid_to else '今'}"
        for h in found.holdings
    )


def _person(w: _Writer, found: PersonStatement, certno: str) -> None:
    person = found.recipient
    w.section(SECTIONS[0])
    w.pairs(
        [
            ("人员编号", person.psn_no, False),
            ("姓名", person.name, False),
            ("身份证号", certno, False),
            ("统筹区", f"{person.region_code} {found.region_name}".strip(), False),
            ("上年度收入", person.last_year_income_fen, True),
            ("年度内救助类别", _categories(found) or "无", False),
        ]
    )


def _items(w: _Writer, found: PersonStatement) -> None:
    w.section(SECTIONS[1])
    w.headings(ITEM_HEADINGS)
    for item in found.items:
        where = (
            f"{item.fixmedins_code} {item.hospital or ''} 结算 {item.setl_id}".strip()
            if item.source == "settlement"
            else f"发票 {item.invoice_no}（申请 {item.application}）"
        )
        payers = item.payers_fen
        money = [
            item.medfee_fen, item.inscp_fen, payers["hifp"], payers["hifob"], payers["hifmi"],
            payers["cvlserv"], payers["hifes"], payers["oth"], payers["maf"], item.acct_pay_fen,
            item.cash_fen, item.gross_base_fen, item.deducted_fen, item.relief_fen,
            item.base_fen,
        ]  # fmt: skip
        w.cell(1, item.day)
        w.cell(2, item.key)
        w.cell(3, where)
        w.cell(4, VISIT_NAMES.get(item.visit, item.visit))
        for offset, value in enumerate(money):
            w.cell(ITEM_MONEY_FROM + 1 + offset, value, money=True)
        category = "" if item.category is None else CATEGORY_NAMES.get(item.category, "")
        w.cell(len(ITEM_HEADINGS) - 1, category)
        w.cell(len(ITEM_HEADINGS), item.amount_fen, money=True)
        w.row += 1
    if not found.items:
        w.none()


def _summary(w: _Writer, found: PersonStatement) -> None:
    year = found.found
    w.section(SECTIONS[2])
    w.pairs(
        [
            ("应救助金额", year.due_fen, True),
            ("实际救助金额", year.granted_fen, True),
            ("其中：医疗机构垫付（一站式）", year.granted.maf_pay_fen, True),
            ("其中：救助申请", year.granted.applications_fen, True),
            ("其中：历次清算结果", year.granted.clearings_fen, True),
            ("清算差额（应救助 − 实际救助）", year.difference_fen, True),
        ]
    )


def _clearings(w: _Writer, found: PersonStatement) -> None:
    w.section(SECTIONS[3])
    w.headings(("清算编号", "清算方式", "清算时间", "差额", "处理方式", "状态"))
    for row in found.clearings:
        made_at = row.get("made_at")
        w.cell(1, str(row["reference"]))
        w.cell(2, CLEARING_KINDS.get(row.get("kind") or "", row.get("kind") or ""))
        w.cell(3, f"{shanghai(made_at):%Y-%m-%d %H:%M}" if made_at else "")
        w.cell(4, int(row["difference_fen"]), money=True)
        w.cell(5, RESOLUTIONS.get(row.get("resolution") or "", row.get("resolution") or ""))
        w.cell(6, row.get("status") or "")
        w.row += 1
    if not found.clearings:
        w.none()


def _payments(w: _Writer, found: PersonStatement) -> None:
    w.section(SECTIONS[4])
    w.headings(("业务编号", "类型", "登记日期", "金额", "其中本年度", "抵扣", "实付", "状态"))
    for p in found.payments:
        w.cell(1, p.reference)
        w.cell(2, KIND_NAMES.get(p.kind, p.kind))
        w.cell(3, p.recorded_on)
        w.cell(4, p.amount_fen, money=True)
        w.cell(5, p.year_part_fen, money=True)
        w.cell(6, p.deducted_fen, money=True)
        w.cell(7, p.paid_fen, money=True)
        w.cell(8, STATUS_NAMES.get(p.status, p.status))
        w.row += 1
    if not found.payments:
        w.none()


def _finish(sheet: Worksheet) -> None:
    widths = [12, 22, 30, 8, *([13] * 17)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def workbook(found: PersonStatement, *, certno: str, now: datetime) -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{found.recipient.psn_no} {found.year}"[:31]
    w = _Writer(sheet)
    sheet.cell(1, 1, f"{TITLE}　{found.year} 年").font = Font(bold=True, size=14)
    sheet.cell(2, 1, f"生成时间：{shanghai(now):%Y-%m-%d %H:%M}（北京时间）　金额单位：元")
    w.row = 2
    _person(w, found, certno)
    _items(w, found)
    _summary(w, found)
    _clearings(w, found)
    _payments(w, found)
    w.section(SECTIONS[5])
    w.pairs([("当前应收余额（个人应退还）", found.receivable_fen, True)])
    _finish(sheet)
    return book
