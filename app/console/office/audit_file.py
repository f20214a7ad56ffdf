"""Reading a smart-audit result file (智能审核结果, XLSX or CSV) into the API's bulk items.

The file is judged whole before anything is stored: a header row naming the five columns
(Chinese or the API's field names), then one result per row. Every row is checked with the
API's own model (AuditIn) and each error is said in Chinese with its row number as the
spreadsheet shows it. Limits: UPLOAD_BYTES_MAX bytes, ROWS_MAX results, COLUMNS_MAX columns.

Amounts are yuan with at most two decimals: a spreadsheet number is read through its shortest
decimal text (never float arithmetic), so 1234.5 is 1234.50 and 12.345 is refused.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from app.console.office import forms
from app.monthly.audits import BULK_AUDITS_MAX
from app.monthly.schemas import AuditIn

ROWS_MAX = BULK_AUDITS_MAX
COLUMNS_MAX = 20
UPLOAD_BYTES_MAX = 4 * 1024 * 1024
PAYLOAD_CHARS_MAX = 12 * 1024 * 1024

# Column heading (as written in the file) -> AuditIn field.
HEADINGS: dict[str, str] = {
    "机构编号": "fixmedins_code",
    "定点医药机构编号": "fixmedins_code",
    "结算ID": "setl_id",
    "结算id": "setl_id",
    "规则编码": "rule_code",
    "审核规则编码": "rule_code",
    "扣款金额": "amount",
    "扣款金额（元）": "amount",
    "金额": "amount",
    "扣款原因": "reason",
    "原因": "reason",
    **{name: name for name in ("fixmedins_code", "setl_id", "rule_code", "amount", "reason")},
}
FIELDS = ("fixmedins_code", "setl_id", "rule_code", "amount", "reason")
TEMPLATE_HEADINGS = ("机构编号", "结算ID", "规则编码", "扣款金额", "扣款原因")


class FileRefused(ValueError):
    """The file as a whole cannot be read (the message is Chinese, for the page)."""


@dataclass
class Row:
    line: int  # the row number as the spreadsheet shows it (the header is row 1)
    values: dict[str, str]  # the cells as text, by field
    item: AuditIn | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    rows: list[Row]
    errors: list[str] = field(default_factory=list)  # about the file, not a row

    @property
    def ok(self) -> bool:
        return not self.errors and all(not row.errors for row in self.rows)

    @property
    def items(self) -> list[AuditIn]:
        assert self.ok, "only a valid file has items"
        return [row.item for row in self.rows if row.item is not None]


def parse(filename: str, content: bytes) -> Parsed:
    """The rows of an uploaded file, each checked; file-level problems as `errors`."""
    try:
        if len(content) > UPLOAD_BYTES_MAX:
            megabytes = UPLOAD_BYTES_MAX // (1024 * 1024)
            raise FileRefused(f"文件超过 {megabytes} MB，请分成几个文件导入")
        if not content:
            raise FileRefused("文件是空的")
        table = _xlsx(content) if _is_xlsx(filename, content) else _csv(filename, content)
        return _check(table)
    except FileRefused as refused:
        return Parsed(rows=[], errors=[str(refused)])


def _is_xlsx(filename: str, content: bytes) -> bool:
    name = filename.lower()
    if name.endswith(".xls"):
        raise FileRefused("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再导入")
    return name.endswith(".xlsx") or content[:4] == b"PK\x03\x04"


def _xlsx(content: bytes) -> list[list[Any]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise FileRefused("无法读取该 XLSX 文件，请确认是 Excel 保存的 .xlsx 文件") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise FileRefused("文件中没有工作表")
        rows: list[list[Any]] = []
        for values in sheet.iter_rows(max_col=COLUMNS_MAX, values_only=True):
            if len(rows) > ROWS_MAX + 1:
                break
            rows.append(list(values))
        return rows
    finally:
        book.close()


def _csv(filename: str, content: bytes) -> list[list[Any]]:
    if not filename.lower().endswith((".csv", ".txt")) and filename:
        raise FileRefused("请上传 .xlsx 或 .csv 文件")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    if "\x00" in text:
        raise FileRefused("文件中有无法识别的字符，请另存为 CSV 后再导入")
    rows: list[list[Any]] = []
    try:
        for values in csv.reader(io.StringIO(text, newline="")):
            if len(rows) > ROWS_MAX + 1:
                break
            rows.append(list(values[: COLUMNS_MAX + 1]))
    except csv.Error:
        raise FileRefused("CSV 格式有误（引号不成对），请在 Excel 中重新另存为 CSV") from None
    return rows


def _text(value: Any) -> str:
    """A cell as text: numbers through their shortest decimal form, never float sums."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        number = Decimal(repr(value))
        return str(int(number)) if number == number.to_integral_value() else str(number)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _columns(header: list[Any]) -> dict[int, str]:
    """Column index -> field, from the header row; unknown or missing headings refuse."""
    columns: dict[int, str] = {}
    unknown = []
    for index, cell in enumerate(header):
        heading = _text(cell).replace(" ", "")
        if not heading:
            continue
        name = HEADINGS.get(heading)
        if name is None:
            unknown.append(heading)
        elif name in columns.values():
            raise FileRefused(f"第 1 行：“{heading}”这一列重复了")
        else:
            columns[index] = name
    if unknown:
        raise FileRefused(
            "第 1 行：不认识的列“" + "”“".join(unknown[:5]) + "”。"
            f"表头应为：{'、'.join(TEMPLATE_HEADINGS)}"
        )
    missing = [forms.label(name) for name in FIELDS if name not in columns.values()]
    if missing:
        raise FileRefused(
            f"第 1 行：缺少“{'”“'.join(missing)}”列。表头应为：{'、'.join(TEMPLATE_HEADINGS)}"
        )
    return columns


def _check(table: list[list[Any]]) -> Parsed:
    while table and all(_text(cell) == "" for cell in table[0]):
        table = table[1:]  # blank lines above the header
    if not table:
        raise FileRefused("文件是空的")
    columns = _columns(table[0])
    rows = []
    for offset, values in enumerate(table[1:], start=2):
        cells = {name: _text(values[i]) if i < len(values) else "" for i, name in columns.items()}
        if not any(cells.values()):
            continue  # a blank line
        rows.append(_row(offset, cells))
    if not rows:
        raise FileRefused("文件中没有审核结果（表头下面是空的）")
    if len(rows) > ROWS_MAX:
        raise FileRefused(f"一次最多导入 {ROWS_MAX} 条审核结果，请分成几个文件")
    _mark_repeats(rows)
    return Parsed(rows=rows)


def _row(line: int, cells: dict[str, str]) -> Row:
    item, errors = forms.parse(AuditIn, cells)
    return Row(line=line, values=cells, item=item, errors=errors)


def _mark_repeats(rows: list[Row]) -> None:
    """One result per settlement and rule: a later row with the same key is an error."""
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (row.values["fixmedins_code"], row.values["setl_id"], row.values["rule_code"])
        if key in seen:
            row.errors.append(f"与第 {seen[key]} 行重复（同一机构、结算ID、规则编码）")
        else:
            seen[key] = row.line


def payload(parsed: Parsed) -> str:
    """The checked rows as JSON text for the confirmation form (checked again on confirm)."""
    assert parsed.ok
    return json.dumps(
        [[row.line, *(row.values[name] for name in FIELDS)] for row in parsed.rows],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def from_payload(text: str) -> Parsed:
    """The rows of a confirmation form, checked again like a file (nothing is trusted)."""
    try:
        if len(text) > PAYLOAD_CHARS_MAX:
            raise ValueError("too long")
        data = json.loads(text)
        if not isinstance(data, list) or not data or len(data) > ROWS_MAX:
            raise ValueError("not rows")
        rows = []
        for entry in data:
            if not (isinstance(entry, list) and len(entry) == len(FIELDS) + 1):
                raise ValueError("not a row")
            line, *cells = entry
            if not isinstance(line, int) or not all(isinstance(cell, str) for cell in cells):
                raise ValueError("not a row")
            rows.append(_row(line, dict(zip(FIELDS, cells, strict=True))))
    except ValueError:
        return Parsed(rows=[], errors=["导入内容已失效，请重新上传文件"])
    _mark_repeats(rows)
    return Parsed(rows=rows)


def template_csv() -> bytes:
    """An empty file with the headings (UTF-8 with BOM, so Excel opens it in Chinese)."""
    return ("\ufeff" + ",".join(TEMPLATE_HEADINGS) + "\r\n").encode()
