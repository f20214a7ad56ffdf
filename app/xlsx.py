"""XLSX exports (openpyxl): sheets of rows with Chinese headings, streamed to the client."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from openpyxl import Workbook

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_ROWS_MAX = 200_000


def workbook(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> Workbook:
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    for title, headings, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(list(headings))
        for count, row in enumerate(rows):
            if count >= EXPORT_ROWS_MAX:
                break
            sheet.append(list(row))
        for index, heading in enumerate(headings, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(
                12, len(heading) * 2 + 2
            )
    return book


def response(book: Workbook, filename: str) -> StreamingResponse:
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return StreamingResponse(
        buffer,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
