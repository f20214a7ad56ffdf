"""The smart-audit file reader on its own: good and bad XLSX and CSV files, Chinese errors with
the spreadsheet's row numbers, exact amounts, limits."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from app.console.office import audit_file

HEADER = ["机构编号", "结算ID", "规则编码", "扣款金额", "扣款原因"]


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


def test_a_good_xlsx_file_gives_every_row_with_exact_amounts() -> None:
    parsed = audit_file.parse(
        "结果.xlsx",
        xlsx(
            [
                HEADER,
                ["H001", "S1", "R01", 1234.5, "超标准收费"],
                ["H001", 20260301001, "R02", 12, "重复收费"],
                [None, None, None, None, None],  # a blank line is skipped
                ["H002", "S9", "R01", "0.01", "分解住院"],
            ]
        ),
    )
    assert parsed.ok, (parsed.errors, [row.errors for row in parsed.rows])
    assert [row.line for row in parsed.rows] == [2, 3, 5]
    items = parsed.items
    assert [(i.fixmedins_code, i.setl_id, i.rule_code, i.amount) for i in items] == [
        ("H001", "S1", "R01", 123450),
        ("H001", "20260301001", "R02", 1200),
        ("H002", "S9", "R01", 1),
    ]
    assert items[0].reason == "超标准收费"


def test_a_good_csv_in_utf8_or_gbk_with_english_headings() -> None:
    rows = [
        ["fixmedins_code", "setl_id", "rule_code", "amount", "reason"],
        ["H001", "S1", "R01", "88.00", "超标准收费"],
    ]
    for encoding in ("utf-8-sig", "utf-8", "gb18030"):
        parsed = audit_file.parse("a.csv", csv_bytes(rows, encoding))
        assert parsed.ok, encoding
        assert parsed.items[0].amount == 8800 and parsed.items[0].reason == "超标准收费"


def test_bad_rows_are_named_by_row_and_column_in_chinese() -> None:
    parsed = audit_file.parse(
        "a.xlsx",
        xlsx(
            [
                HEADER,
                ["H001", "S1", "R01", "100.00", "好的一行"],
                ["h-1", "S2", "R01", "1.234", "机构编号与金额都错"],
                ["H001", "S3", "", 12.345, "规则编码缺失、金额三位小数"],
                ["H001", "S4", "R01", "-5", ""],
                ["H001", "S1", "R01", "100.00", "与第 2 行重复"],
            ]
        ),
    )
    assert not parsed.ok and parsed.errors == []
    errors = {row.line: row.errors for row in parsed.rows}
    assert errors[2] == []
    assert errors[3] == ["机构编号：格式不对", "金额：金额最多两位小数（到分）"]
    assert errors[4] == ["审核规则编码：必填", "金额：金额最多两位小数（到分）"]
    assert errors[5] == ["金额：金额须大于 0", "原因：必填"]
    assert errors[6] == ["与第 2 行重复（同一机构、结算ID、规则编码）"]
    with pytest.raises(AssertionError):
        _ = parsed.items


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("a.csv", b"", "文件是空的"),
        ("a.xls", b"\xd0\xcf\x11\xe0", "不支持旧版 .xls 文件"),
        ("a.xlsx", b"PK\x03\x04not a zip", "无法读取该 XLSX 文件"),
        ("a.pdf", b"%PDF-1.4", "请上传 .xlsx 或 .csv 文件"),
        ("a.csv", "机构编号,结算ID\r\nH001,S1".encode(), "缺少“审核规则编码”“金额”“原因”列"),
        ("a.csv", "机构编号,结算ID,规则编码,扣款金额,扣款原因,患者".encode(), "不认识的列“患者”"),
        ("a.csv", "机构编号,机构编号".encode(), "“机构编号”这一列重复了"),
        ("a.csv", ",".join(HEADER).encode() + b"\r\n\r\n", "表头下面是空的"),
        ("a.csv", b"\xff\xfe\x00\x00bad", "无法识别文件编码"),
    ],
)
def test_unreadable_files_are_refused_whole(name: str, content: bytes, error: str) -> None:
    parsed = audit_file.parse(name, content)
    assert parsed.rows == [] and len(parsed.errors) == 1
    assert error in parsed.errors[0]


def test_limits_on_rows_and_bytes() -> None:
    too_many = [HEADER] + [["H001", f"S{n}", "R01", "1.00", "x"] for n in range(5001)]
    parsed = audit_file.parse("a.csv", csv_bytes(too_many))
    assert parsed.errors == ["一次最多导入 5000 条审核结果，请分成几个文件"]
    just = audit_file.parse("a.csv", csv_bytes(too_many[:5001]))
    assert just.ok and len(just.items) == 5000
    huge = audit_file.parse("a.csv", b"x" * (audit_file.UPLOAD_BYTES_MAX + 1))
    assert huge.errors == ["文件超过 4 MB，请分成几个文件导入"]


def test_the_confirmation_payload_is_checked_again() -> None:
    parsed = audit_file.parse(
        "a.csv", csv_bytes([HEADER, ["H001", "S1", "R01", "12.30", "超标准收费"]])
    )
    again = audit_file.from_payload(audit_file.payload(parsed))
    assert again.ok and [(r.line, r.item) for r in again.rows] == [
        (r.line, r.item) for r in parsed.rows
    ]
    tampered = audit_file.from_payload('[[2,"H001","S1","R01","-1","x"]]')
    assert not tampered.ok and tampered.rows[0].errors == ["金额：金额须大于 0"]
    for broken in ("", "{}", "[1]", '[[2,"H001"]]', "[]", "not json"):
        assert audit_file.from_payload(broken).errors == ["导入内容已失效，请重新上传文件"]


def test_the_template_opens_in_excel_with_the_headings() -> None:
    template = audit_file.template_csv()
    assert template.startswith(b"\xef\xbb\xbf")
    parsed = audit_file.parse("t.csv", template)
    assert parsed.errors == ["文件中没有审核结果（表头下面是空的）"]
