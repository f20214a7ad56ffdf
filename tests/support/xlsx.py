"""Read an export as a finance officer's spreadsheet would, checking the uniform layout of
app/xlsx.py: title row, generation time, frozen Chinese headings, numbers for amounts (format
#,##0.00), dates as dates, column widths, and a totals row equal to the column sums."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

MONEY_FORMAT = "#,##0.00"


@dataclass
class Table:
    title: str
    info: str
    headings: list[str]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None

    def fen(self, row: dict[str, Any], heading: str) -> int:
        return to_fen(row[heading])


def to_fen(value: Any) -> int:
    assert isinstance(value, int | float), f"{value!r} is not a number"
    return int((Decimal(str(value)) * 100).to_integral_value())


def _has_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def uniform_sheet(content: bytes, name: str, *, totals: bool = True) -> Table:
    """The sheet `name` of an XLSX export, checked for the uniform layout."""
    assert content[:2] == b"PK", "not an XLSX file"
    book = load_workbook(io.BytesIO(content))
    assert all(_has_chinese(title) for title in book.sheetnames), book.sheetnames
    sheet = book[name]
    title, info = str(sheet["A1"].value or ""), str(sheet["A2"].value or "")
    assert _has_chinese(title) and sheet["A1"].font.bold, f"no title row: {title!r}"
    assert re.search(r"生成时间：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", info), info
    assert "金额单位：元" in info
    assert sheet.freeze_panes == "A4", "the headings stay in view"
    headings = [str(cell.value) for cell in sheet[3] if cell.value is not None]
    assert headings and all(_has_chinese(h) for h in headings), headings
    for index in range(1, len(headings) + 1):
        letter = sheet.cell(3, index).column_letter
        assert (sheet.column_dimensions[letter].width or 0) >= 8, f"column {letter} width"
    rows = _rows(sheet, headings)
    total_row = None
    if totals:
        assert rows and rows[-1][headings[0]] == "合计", "a totals row ends the list"
        total_row = rows.pop()
        _check_totals(sheet, headings, rows, total_row)
    return Table(title, info, headings, rows, total_row)


def _rows(sheet: Worksheet, headings: list[str]) -> list[dict[str, Any]]:
    rows = []
    for cells in sheet.iter_rows(min_row=4, max_col=len(headings)):
        if all(cell.value is None for cell in cells):
            continue
        row = {}
        for heading, cell in zip(headings, cells, strict=True):
            if cell.number_format == MONEY_FORMAT:
                assert cell.value is None or isinstance(cell.value, int | float), (
                    f"{heading}: an amount stored as {type(cell.value).__name__}"
                )
            if isinstance(cell.value, datetime):
                assert cell.number_format == "yyyy-mm-dd", cell.number_format
                row[heading] = cell.value.date()
                continue
            row[heading] = cell.value
        rows.append(row)
    return rows


def _check_totals(
    sheet: Worksheet, headings: list[str], rows: list[dict[str, Any]], total: dict[str, Any]
) -> None:
    last = sheet.max_row
    for index, heading in enumerate(headings, start=1):
        cell = sheet.cell(last, index)
        if total[heading] is None:
            continue  # a column that is not summed (a balance): its 合计 stays empty
        if cell.number_format == MONEY_FORMAT and index > 1:
            expected = sum(to_fen(row[heading]) for row in rows if row[heading] is not None)
            assert to_fen(total[heading]) == expected, f"合计 of {heading}"
        elif cell.number_format == "#,##0":
            assert total[heading] == sum(row[heading] or 0 for row in rows), f"合计 of {heading}"
