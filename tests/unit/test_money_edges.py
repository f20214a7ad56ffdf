"""Edges of money (SPEC §2, docs/rules.md "Money") not pinned by test_money.py: negative
half fen, zero's sign, ratio bounds, four-decimal ratios, trailing characters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.money import (
    MAX_FEN,
    MoneyError,
    apply_ratio,
    bp_str,
    round_half_up,
    to_bp,
    to_fen,
    yuan,
)


@pytest.mark.parametrize(
    ("amount", "ratio", "fen"),
    [
        (1, 5000, 1),  # 0.01 × 0.5 = 0.005 -> 0.01
        (-1, 5000, -1),  # −0.005 -> −0.01 (SPEC §2)
        (-3, 5000, -2),  # −0.015 -> −0.02
        (-1, 4999, 0),  # −0.004999 -> 0.00, not −0.00
        (0, 6000, 0),
        (123_456, 0, 0),
        (-123_456, 0, 0),
        (123_456, 10_000, 123_456),
        (-123_456, 10_000, -123_456),
        (MAX_FEN, 10_000, MAX_FEN),
    ],
)
def test_apply_ratio_edges(amount: int, ratio: int, fen: int) -> None:
    assert apply_ratio(amount, ratio) == fen


@pytest.mark.parametrize("ratio", [-1, 10_001])
def test_ratios_outside_zero_to_one_are_refused(ratio: int) -> None:
    with pytest.raises(AssertionError):
        apply_ratio(100, ratio)


@settings(max_examples=100)
@given(st.integers(-MAX_FEN, MAX_FEN), st.integers(0, 10_000))
def test_apply_ratio_is_symmetric_around_zero(amount: int, ratio: int) -> None:
    assert apply_ratio(-amount, ratio) == -apply_ratio(amount, ratio)
    assert abs(apply_ratio(amount, ratio)) <= abs(amount)


@settings(max_examples=100)
@given(st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False))
def test_round_half_up_is_away_from_zero(value: Decimal) -> None:
    rounded = round_half_up(value)
    assert round_half_up(-value) == -rounded
    assert abs(value - rounded) <= Decimal("0.5")
    if abs(value - int(value)) == Decimal("0.5"):
        assert abs(rounded) > abs(value)


@pytest.mark.parametrize("text", ["-0", "-0.00", "0.0", "-0.0"])
def test_zero_has_no_sign(text: str) -> None:
    assert to_fen(text) == 0
    assert yuan(to_fen(text)) == "0.00"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1.00\n", "amount_format"),  # docs/rules.md: no trailing newline
        ("1.00 ", "amount_format"),
        ("-0.005", "amount_decimals"),
        ("1.", "amount_format"),
        (".5", "amount_format"),
        ("--1", "amount_format"),
        (Decimal("-0.005"), "amount_decimals"),
        (10**11 + 1, "amount_max"),  # an int is yuan
        (-(10**11) - 1, "amount_max"),
    ],
)
def test_more_refusals(value: object, rule: str) -> None:
    with pytest.raises(MoneyError) as caught:
        to_fen(value)
    assert caught.value.rule == rule


def test_largest_amounts_both_signs() -> None:
    assert to_fen(10**11) == MAX_FEN
    assert to_fen(-(10**11)) == -MAX_FEN
    assert to_fen("-100000000000.00") == -MAX_FEN
    assert to_fen(Decimal("100000000000.00")) == MAX_FEN


def test_yuan_refuses_non_integers() -> None:
    with pytest.raises(AssertionError):
        yuan(True)
    with pytest.raises(AssertionError):
        yuan(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "bp"),
    [("0", 0), ("0.00", 0), ("1.00", 10_000), ("0.6025", 6025), ("0.605", 6050), ("0.0001", 1)],
)
def test_ratios_with_up_to_four_decimals_where_allowed(text: str, bp: int) -> None:
    assert to_bp(text, decimals_max=4) == bp


def test_ratio_edges() -> None:
    assert to_bp(0) == 0
    assert to_bp(1) == 10_000
    assert to_bp(Decimal("0.6")) == 6000
    with pytest.raises(MoneyError):
        to_bp("0.60001", decimals_max=4)  # (named ratio_range, not ratio_decimals)
    with pytest.raises(MoneyError) as caught:
        to_bp("1.0001", decimals_max=4)
    assert caught.value.rule == "ratio_range"
    with pytest.raises(MoneyError):
        to_bp(True)


@pytest.mark.parametrize(
    ("bp", "text"),
    [
        (0, "0.00"),
        (1, "0.0001"),
        (500, "0.05"),
        (6050, "0.605"),
        (6025, "0.6025"),
        (10_000, "1.00"),
    ],
)
def test_bp_str(bp: int, text: str) -> None:
    assert bp_str(bp) == text


@given(st.integers(0, 10_000))
def test_ratio_round_trip(bp: int) -> None:
    assert to_bp(bp_str(bp), decimals_max=4) == bp
