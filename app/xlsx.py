"""XLSX exports for the fund office (openpyxl), one uniform layout for every report
(统一制式): a title row naming the report and its period, a row with the generation time and
the unit, the Chinese column headings (frozen, filtered, printed on every page), the rows,
and a totals row (合计). Amounts are numbers in yuan with the format `#,##0.00`, computed from
integer fen (Decimal, never float); counts are integers, dates are dates."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.clock import shanghai

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_ROWS_MAX = 200_000
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
RATIO_FORMAT = "0.00%"
TITLE_ROW, INFO_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = HEADER_ROW + 1
TOTAL_LABEL = "合计"
WIDTH_MIN, WIDTH_MAX = 8, 48

INSUTYPE_NAMES = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"  # integer fen in, a yuan number out
    COUNT = "count"
    DATE = "date"
    RATIO = "ratio"  # basis points in, a percentage out


@dataclass(frozen=True)
class Column:
    heading: str
    kind: Kind = Kind.TEXT
    total: bool = True  # False for a balance or a snapshot: a sum of them means nothing

    @property
    def totalled(self) -> bool:
        return self.total and self.kind in (Kind.MONEY, Kind.COUNT)


@dataclass(frozen=True)
class Sheet:
    """One sheet: `rows` hold fen for money columns, basis points for ratio columns."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    notes: Sequence[str] = ()
    totals: bool = True


def fen_to_yuan(amount_fen: int) -> Decimal:
    """Exact yuan with two decimals (openpyxl writes a Decimal as a number)."""
    return Decimal(int(amount_fen)).scaleb(-2).quantize(Decimal("0.01"))


def insutype_name(insutype: str) -> str:
    return INSUTYPE_NAMES.get(insutype, insutype)


def workbook(sheets: Sequence[Sheet], *, generated_at: datetime) -> Workbook:
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    stamp = f"生成时间：{shanghai(generated_at):%Y-%m-%d %H:%M}（北京时间）"
    for spec in sheets:
        _fill(book.create_sheet(title=spec.name[:31]), spec, stamp)
    return book


def _fill(sheet: Worksheet, spec: Sheet, stamp: str) -> None:
    columns = list(spec.columns)
    assert columns, "a sheet has columns"
    widths = [_width(column.heading) for column in columns]
    sheet.cell(TITLE_ROW, 1, spec.title).font = Font(bold=True, size=14)
    info = "　".join([*spec.notes, stamp, "金额单位：元"])
    sheet.cell(INFO_ROW, 1, info)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index, column.heading)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sums = [0] * len(columns)
    row_number = FIRST_DATA_ROW
    truncated = False
    for count, row in enumerate(spec.rows):
        if count >= EXPORT_ROWS_MAX:
            truncated = True
            break
        assert len(row) == len(columns), "a row has a value per column"
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            cell = sheet.cell(row_number, index + 1, _value(column, value))
            _style(cell, column)
            widths[index] = max(widths[index], _width(_shown(column, value)))
            if column.totalled and value is not None:
                sums[index] += int(value)
        row_number += 1
    if spec.totals:
        _totals(sheet, columns, sums, row_number, widths)
    if truncated:
        sheet.cell(row_number + 1, 1, f"仅导出前 {EXPORT_ROWS_MAX} 行；合计仅含已导出的行")
        sheet.cell(row_number + 1, 1).font = Font(bold=True, color="C00000")
    _finish(sheet, columns, widths, row_number - 1)


def _totals(
    sheet: Worksheet, columns: list[Column], sums: list[int], row: int, widths: list[int]
) -> None:
    assert not columns[0].totalled, "the first column carries the 合计 label"
    for index, column in enumerate(columns, start=1):
        value: Any = None
        if index == 1:
            value = TOTAL_LABEL
        elif column.totalled:
            value = _value(column, sums[index - 1])
            widths[index - 1] = max(widths[index - 1], _width(_shown(column, sums[index - 1])))
        cell = sheet.cell(row, index, value)
        _style(cell, column)
        cell.font = Font(bold=True)
        cell.fill = _TOTAL_FILL


def _finish(sheet: Worksheet, columns: list[Column], widths: list[int], last_row: int) -> None:
    last = get_column_letter(len(columns))
    sheet.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    sheet.merge_cells(f"A{INFO_ROW}:{last}{INFO_ROW}")
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{max(last_row, HEADER_ROW)}"
    shown = [min(WIDTH_MAX, width * 1.15 + 2) for width in widths]  # CJK glyphs run wider
    for index, width in enumerate(shown, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[TITLE_ROW].height = 24
    # the information row wraps within the table's width instead of being cut off
    info = sheet.cell(INFO_ROW, 1)
    info.alignment = Alignment(wrap_text=True, vertical="top")
    lines = math.ceil(_width(str(info.value or "")) * 1.15 / sum(shown))
    sheet.row_dimensions[INFO_ROW].height = 15 * max(1, lines)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind is Kind.MONEY:
        return fen_to_yuan(value)
    if column.kind is Kind.RATIO:
        return (Decimal(int(value)) / 10000).quantize(Decimal("0.0001"))
    if column.kind is Kind.COUNT:
        return int(value)
    if column.kind is Kind.DATE:
        assert isinstance(value, date)
        return value
    return str(value)


def _style(cell: Any, column: Column) -> None:
    cell.border = _BORDER
    cell.number_format = {
        Kind.MONEY: MONEY_FORMAT,
        Kind.COUNT: COUNT_FORMAT,
        Kind.DATE: DATE_FORMAT,
        Kind.RATIO: RATIO_FORMAT,
    }.get(column.kind, "@")


def _shown(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind is Kind.MONEY:
        return f"{fen_to_yuan(value):,}"
    if column.kind is Kind.DATE:
        return "2026-01-01"
    return str(value)


def _width(text: str) -> int:
    """Display width: a Chinese character takes two columns."""
    return max(WIDTH_MIN, sum(2 if ord(char) > 0x2E7F else 1 for char in text))


def response(book: Workbook, filename: str) -> StreamingResponse:
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return StreamingResponse(
        buffer,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
