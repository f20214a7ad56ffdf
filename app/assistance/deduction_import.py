"""Reading a file of deduction data (扣减数据, XLSX or CSV) into the API's records.

The file is judged whole before anything is stored: a header row naming the columns (Chinese
or the API's field names; `reference`, `type`, `psn_no`, `amount` required, the item and year
columns as the rows need them), then one record per row, each checked with the API's own
model (DeductionIn). A row is named by its number as the spreadsheet shows it (the header is
row 1): errors are `rows.<N>.<field>`. The type may be written as its code or its Chinese
name. Amounts are read through a number's shortest decimal text (never float arithmetic):
1234.5 is 1234.50 and 12.345 is refused. Limits: UPLOAD_BYTES_MAX bytes, ROWS_MAX records,
COLUMNS_MAX columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.assistance import deductions
from app.assistance.deduction_models import DeductionRecord
from app.assistance.deduction_schemas import DeductionIn
from app.assistance.deductions import RECORDS_PER_CALL_MAX
from app.assistance.rules import DeductionKind
from app.auth.principal import Principal
from app.errors import Conflict, FieldError, Invalid

ROWS_MAX = RECORDS_PER_CALL_MAX
COLUMNS_MAX = 20
UPLOAD_BYTES_MAX = 4 * 1024 * 1024

# Column heading (as written in the file) -> DeductionIn field.
HEADINGS: dict[str, str] = {
    "参考号": "reference",
    "业务编号": "reference",
    "扣减编号": "reference",
    "扣减类型": "type",
    "类型": "type",
    "人员编号": "psn_no",
    "扣减金额": "amount",
    "扣减金额（元）": "amount",
    "金额": "amount",
    "机构编号": "fixmedins_code",
    "定点医药机构编号": "fixmedins_code",
    "结算ID": "setl_id",
    "结算id": "setl_id",
    "发票号": "invoice_no",
    "发票号码": "invoice_no",
    "年度": "year",
    **{
        name: name
        for name in (
            "reference",
            "type",
            "psn_no",
            "amount",
            "fixmedins_code",
            "setl_id",
            "invoice_no",
            "year",
        )
    },
}
REQUIRED = ("reference", "type", "psn_no", "amount")
TYPE_NAMES = {
    "大病保险": DeductionKind.CRITICAL_ILLNESS.value,
    "职工医疗互助": DeductionKind.MUTUAL_AID.value,
    "其他": DeductionKind.OTHER.value,
    "综合减负": DeductionKind.BURDEN_RELIEF.value,
}


def _refused(rule: str, message: str) -> Invalid:
    return Invalid.field("file", rule, message)


@dataclass
class Parsed:
    """The records of a file, each with its row number; every bad row's errors."""

    rows: list[DeductionIn | None] = field(default_factory=list)  # None: a bad row
    labels: list[str] = field(default_factory=list)  # the row numbers, as text
    errors: list[FieldError] = field(default_factory=list)


def import_file(
    session: Session, filename: str, content: bytes, *, actor: Principal, now: datetime
) -> list[tuple[DeductionRecord, bool]]:
    """A file of records, all or nothing: every bad row of the file and every refused
    record in one 422 (`rows.<N>.<field>`), or the reused references in one 409; else each
    row is stored or a replay of its reference."""
    parsed = parse(filename, content)
    good = [index for index, row in enumerate(parsed.rows) if row is not None]
    rows = [row for row in parsed.rows if row is not None]
    labels = [parsed.labels[index] for index in good]
    checked, issues = deductions.check(session, rows)
    errors = parsed.errors + [
        FieldError(f"rows.{labels[issue.index]}.{issue.field}", issue.rule, issue.message)
        for issue in issues
    ]
    if errors:
        bad = {error.field.split(".")[1] for error in errors}
        detail = f"{len(bad)} row(s) refused; nothing was stored"
        conflicts_only = not parsed.errors and all(issue.status == 409 for issue in issues)
        raise (Conflict if conflicts_only else Invalid)(
            detail, errors=sorted(errors, key=lambda error: _line_of(error.field))
        )
    # the trail names the file by its content (a file name is the uploader's free text)
    digest = hashlib.sha256(content).hexdigest()
    return deductions.store_import(session, checked, actor=actor, now=now, source=digest)


def _line_of(field_name: str) -> int:
    return int(field_name.split(".")[1])


def parse(filename: str, content: bytes) -> Parsed:
    """The checked records of an uploaded file; a file that cannot be read at all is 422
    `file`; a bad row is listed in `errors` (nothing may be stored then)."""
    if len(content) > UPLOAD_BYTES_MAX:
        raise _refused("file_size", f"at most {UPLOAD_BYTES_MAX // (1024 * 1024)} MB")
    if not content:
        raise _refused("file_empty", "the file is empty")
    table = _xlsx(content) if _is_xlsx(filename, content) else _csv(filename, content)
    return _check(table)


def _is_xlsx(filename: str, content: bytes) -> bool:
    name = filename.lower()
    if name.endswith(".xls"):
        raise _refused("file_type", "an old .xls file: save it as .xlsx or .csv")
    return name.endswith(".xlsx") or content[:4] == b"PK\x03\x04"


def _xlsx(content: bytes) -> list[list[Any]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise _refused("file_type", "not an XLSX file Excel could read") from None
    try:
        if not book.worksheets:
            raise _refused("file_empty", "the workbook has no sheet")
        rows: list[list[Any]] = []
        for values in book.worksheets[0].iter_rows(max_col=COLUMNS_MAX, values_only=True):
            if len(rows) > ROWS_MAX + 1:
                break
            rows.append(list(values))
        return rows
    finally:
        book.close()


def _csv(filename: str, content: bytes) -> list[list[Any]]:
    if filename and not filename.lower().endswith((".csv", ".txt")):
        raise _refused("file_type", "an .xlsx or .csv file")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _refused("file_encoding", "a CSV in UTF-8 or GBK")
    if "\x00" in text:
        raise _refused("no_nul_character", "the file holds a NUL character")
    rows: list[list[Any]] = []
    try:
        for values in csv.reader(io.StringIO(text, newline="")):
            if len(rows) > ROWS_MAX + 1:
                break
            rows.append(list(values[: COLUMNS_MAX + 1]))
    except csv.Error:
        raise _refused("file_format", "a CSV with unbalanced quotes") from None
    return rows


def _text(value: Any) -> str:
    """A cell as text: numbers through their shortest decimal form, never float sums."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        number = Decimal(repr(value))
        return str(int(number)) if number == number.to_integral_value() else str(number)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _columns(header: list[Any]) -> dict[int, str]:
    """Column index -> field, from the header row; unknown, repeated or missing refuse."""
    columns: dict[int, str] = {}
    for index, cell in enumerate(header):
        heading = _text(cell).replace(" ", "")
        if not heading:
            continue
        name = HEADINGS.get(heading)
        if name is None:
            raise _refused("file_heading", f"unknown column {heading!r}")
        if name in columns.values():
            raise _refused("file_heading", f"column {heading!r} given twice")
        columns[index] = name
    missing = [name for name in REQUIRED if name not in columns.values()]
    if missing:
        raise _refused("file_heading", f"missing column(s): {', '.join(missing)}")
    return columns


def _check(table: list[list[Any]]) -> Parsed:
    first = 0
    while first < len(table) and all(_text(cell) == "" for cell in table[first]):
        first += 1  # blank lines above the header
    if first == len(table):
        raise _refused("file_empty", "the file is empty")
    columns = _columns(table[first])
    parsed = Parsed()
    for line, values in enumerate(table[first + 1 :], start=first + 2):
        cells = {name: _text(values[i]) if i < len(values) else "" for i, name in columns.items()}
        if not any(cells.values()):
            continue  # a blank line
        if len(parsed.labels) >= ROWS_MAX:
            raise _refused("rows_max", f"at most {ROWS_MAX} rows in one file")
        _row(parsed, str(line), cells)
    if not parsed.labels:
        raise _refused("file_empty", "no rows under the header")
    return parsed


def _row(parsed: Parsed, label: str, cells: dict[str, str]) -> None:
    values = {name: text for name, text in cells.items() if text != ""}
    if "type" in values:
        values["type"] = TYPE_NAMES.get(values["type"], values["type"])
    parsed.labels.append(label)
    try:
        parsed.rows.append(DeductionIn.model_validate(values))
    except ValidationError as error:
        parsed.rows.append(None)
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "row"
            parsed.errors.append(
                FieldError(f"rows.{label}.{where}", problem["type"], problem["msg"])
            )
