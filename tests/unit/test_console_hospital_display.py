"""Pure pieces of the hospital pages: amounts in capital figures on the printed forms,
percentages, the files an appeal may carry, refusals in Chinese."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.console.display import percent_bp, yuan_capital
from app.console.hospital import messages
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.monthly import attachments
from app.monthly.models import ATTACHMENT_BYTES_MAX

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (700000, "人民币柒仟元整"),
        (123456789, "人民币壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        (10005, "人民币壹佰元零伍分"),
        (0, "人民币零元整"),
        (50, "人民币伍角整"),
        (5, "人民币伍分"),
        (1000, "人民币壹拾元整"),
        (101000, "人民币壹仟零壹拾元整"),
        (1000100, "人民币壹万零壹元整"),
        (2000005, "人民币贰万元零伍分"),
        (10100000, "人民币壹拾万壹仟元整"),
        (100100000, "人民币壹佰万壹仟元整"),
        (10000000100, "人民币壹亿零壹元整"),
        (10001000000, "人民币壹亿零壹万元整"),
        (2958517, "人民币贰万玖仟伍佰捌拾伍元壹角柒分"),
        (-39999, "人民币负叁佰玖拾玖元玖角玖分"),
    ],
)
def test_capital_figures_as_forms_write_them(fen: int, words: str) -> None:
    assert yuan_capital(fen) == words


DIGITS = {c: n for n, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def _read_back(words: str) -> int:
    """An independent reading of the capital figures (sections by 亿 and 万)."""
    text = words.removeprefix("人民币")
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负").removesuffix("整")
    yuan_part, _, cents_part = text.partition("元") if "元" in text else ("", "", text)
    total, section, digit = 0, 0, 0
    for char in yuan_part:
        if char in DIGITS:
            digit = DIGITS[char]
        elif char in UNITS:
            section, digit = section + digit * UNITS[char], 0
        elif char == "万":
            total, section, digit = total + (section + digit) * 10_000, 0, 0
        elif char == "亿":
            total, section, digit = (total + section + digit) * 100_000_000, 0, 0
    whole = total + section + digit
    fen = 0
    if "角" in cents_part:
        fen += DIGITS[cents_part[cents_part.index("角") - 1]] * 10
    if "分" in cents_part:
        fen += DIGITS[cents_part[cents_part.index("分") - 1]]
    return sign * (whole * 100 + fen)


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_capital_figures_read_back_to_the_amount(fen: int) -> None:
    words = yuan_capital(fen)
    assert _read_back(words) == fen
    assert "零零" not in words and not words.endswith("零")
    assert words.endswith("整") == (abs(fen) % 10 == 0)


def test_capital_figures_refuse_what_no_form_holds() -> None:
    with pytest.raises(AssertionError):
        yuan_capital(10**14)


@pytest.mark.parametrize(
    ("bp", "text"), [(6000, "60%"), (500, "5%"), (625, "6.25%"), (10000, "100%"), (0, "0%")]
)
def test_percentages_of_basis_points(bp: int, text: str) -> None:
    assert percent_bp(bp) == text


def test_an_attachment_is_a_pdf_png_or_jpeg_by_its_content() -> None:
    assert attachments.check(PDF) == "application/pdf"
    assert attachments.check(PNG) == "image/png"
    assert attachments.check(JPEG) == "image/jpeg"
    for content, rule in (
        (b"", "attachment_empty"),
        (b"MZ\x90\x00 an executable renamed to scan.pdf", "attachment_type"),
        (b"<html><script>alert(1)</script>", "attachment_type"),
        (b"%PDF-" + b"0" * ATTACHMENT_BYTES_MAX, "attachment_size"),
    ):
        with pytest.raises(Invalid) as refused:
            attachments.check(content)
        assert [(e.field, e.rule) for e in refused.value.errors] == [("attachment", rule)]
    assert attachments.check(b"%PDF-" + b"0" * (ATTACHMENT_BYTES_MAX - 5)) == "application/pdf"


@pytest.mark.parametrize(
    ("name", "media_type", "kept"),
    [
        ("申诉说明.pdf", "application/pdf", "申诉说明.pdf"),
        ("C:\\Users\\财务\\扫描件.JPEG", "image/jpeg", "扫描件.jpg"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("scan.png", "application/pdf", "scan.pdf"),  # named .png, but a PDF inside
        ("bad\x00name\r\n.pdf", "application/pdf", "badname.pdf"),
        ("", "image/png", "申诉材料.png"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 116 + ".pdf"),
    ],
)
def test_a_file_keeps_a_clean_name_with_its_real_extension(
    name: str, media_type: str, kept: str
) -> None:
    assert attachments.clean_filename(name, media_type) == kept


def test_refusals_read_in_chinese() -> None:
    invalid = Invalid(
        "x",
        errors=[
            FieldError("period", "days_reconciled", "days not reconciled: 2026-03-06"),
            FieldError("period", "declaration_deadline", "passed"),
        ],
    )
    assert messages.chinese(invalid) == [
        messages.RULES["days_reconciled"],
        messages.RULES["declaration_deadline"],
    ]
    assert messages.chinese(Conflict("statement 1 is PAID"))[0].startswith("该单据的状态已变化")
    assert "没有找到" in messages.chinese(NotFound("x"))[0]
    unknown = Invalid("x", errors=[FieldError("f", "some_new_rule", "english")])
    assert messages.chinese(unknown) == [messages.BY_CODE["validation"]]
