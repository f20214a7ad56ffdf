"""XLSX download of any console list, from the same columns as its HTML table.

Amounts are numbers in yuan (exact Decimal, format `#,##0.00`) so an officer can add them up;
dates are dates; statuses are their Chinese labels. Rows are written in a write-only workbook
(constant memory) up to EXPORT_ROWS_MAX.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.clock import shanghai
from app.console.display import insutype, period_cn, status_text
from app.console.listing import Column

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_ROWS_MAX = 100_000
MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"


def cell_value(column: Column, row: Any) -> Any:
    """The value of a row's cell as the spreadsheet holds it."""
    value = column.value(row)
    if value is None:
        return None
    if column.kind == "money":
        return Decimal(value) / 100
    if column.kind == "status":
        return status_text(value, column.status_kind)
    if column.kind == "insutype":
        return insutype(value)
    if column.kind == "period":
        return period_cn(value)
    if column.kind == "datetime":
        assert isinstance(value, datetime)
        return shanghai(value).replace(tzinfo=None)
    return value


def _cell(sheet: Worksheet, column: Column, value: Any) -> Any:
    """A styled cell for an amount or a date; any other value is written as it is (a styled
    cell costs several times a plain one, and lists run to 100,000 rows)."""
    if value is None or (
        column.kind not in ("money", "date", "datetime") and not isinstance(value, date)
    ):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if column.kind == "money":
        cell.number_format = MONEY_FORMAT
    elif column.kind == "date" or (isinstance(value, date) and not isinstance(value, datetime)):
        cell.number_format = "yyyy-mm-dd"
    elif column.kind == "datetime":
        cell.number_format = "yyyy-mm-dd hh:mm"
    return cell


def workbook(
    title: str, columns: Sequence[Column], rows: Iterable[Any], *, caption: str = ""
) -> Workbook:
    """One sheet: an optional caption line (what was filtered), headings, rows."""
    book = Workbook(write_only=True)
    add_sheet(book, title, columns, rows, caption=caption)
    return book


def add_sheet(
    book: Workbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Any],
    *,
    caption: str = "",
) -> None:
    """A sheet of a (write-only) workbook: caption, headings, rows (≤ EXPORT_ROWS_MAX)."""
    sheet = book.create_sheet(title=title[:31])
    for index, column in enumerate(columns, start=1):
        wide = 18 if column.numeric else max(12, len(column.heading) * 2 + 4)
        sheet.column_dimensions[get_column_letter(index)].width = wide
    if caption:
        sheet.append([caption])
    headings = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        headings.append(cell)
    sheet.append(headings)
    for count, row in enumerate(rows):
        assert count < EXPORT_ROWS_MAX, "export limit reached: the caller narrows the filter"
        sheet.append([_cell(sheet, c, cell_value(c, row)) for c in columns])


def response(book: Workbook, filename: str) -> Response:
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
