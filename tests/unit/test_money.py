from decimal import Decimal

import pytest
from hypothesis import given
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
    ("text", "fen"),
    [
        ("0", 0),
        ("0.01", 1),
        ("1234.56", 123456),
        ("1234.5", 123450),
        ("10", 1000),
        ("-0.01", -1),
        ("-12.30", -1230),
        ("100000000000.00", MAX_FEN),
    ],
)
def test_yuan_strings_become_fen(text: str, fen: int) -> None:
    assert to_fen(text) == fen


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("1.234", "amount_decimals"),
        ("0.001", "amount_decimals"),
        ("1e3", "amount_format"),
        ("1E3", "amount_format"),
        ("abc", "amount_format"),
        ("", "amount_format"),
        (" 1.00", "amount_format"),
        ("1,000.00", "amount_format"),
        ("01.00", "amount_format"),
        ("+1.00", "amount_format"),
        ("NaN", "amount_format"),
        ("Infinity", "amount_format"),
        (Decimal("1.001"), "amount_decimals"),
        (Decimal("1.5E+3"), "amount_no_exponent"),
        (Decimal("NaN"), "amount_finite"),
        (Decimal("Infinity"), "amount_finite"),
        (float("nan"), "amount_finite"),
        (float("inf"), "amount_finite"),
        (0.1 + 0.2, "amount_decimals"),
        (1e16, "amount_no_exponent"),
        (True, "amount_type"),
        (None, "amount_type"),
        ([], "amount_type"),
        ("100000000000.01", "amount_max"),
        ("-100000000000.01", "amount_max"),
    ],
)
def test_refusals_name_their_rule(value: object, rule: str) -> None:
    with pytest.raises(MoneyError) as caught:
        to_fen(value)
    assert caught.value.rule == rule


def test_json_numbers_with_two_decimals_are_accepted() -> None:
    assert to_fen(Decimal("12.30")) == 1230
    assert to_fen(12) == 1200
    assert to_fen(12.5) == 1250


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_fen_round_trip_through_yuan_strings(fen: int) -> None:
    text = yuan(fen)
    assert to_fen(text) == fen
    assert len(text.split(".")[1]) == 2


@given(st.decimals(min_value=-(10**11), max_value=10**11, places=2, allow_nan=False))
def test_decimals_with_two_places_round_trip(amount: Decimal) -> None:
    assert Decimal(yuan(to_fen(amount))) == amount


def test_yuan_formatting() -> None:
    assert yuan(0) == "0.00"
    assert yuan(1) == "0.01"
    assert yuan(-1) == "-0.01"
    assert yuan(123456) == "1234.56"
    assert yuan(-100) == "-1.00"


def test_round_half_up_is_away_from_zero() -> None:
    assert round_half_up(Decimal("0.5")) == 1
    assert round_half_up(Decimal("-0.5")) == -1
    assert round_half_up(Decimal("1.4999")) == 1
    assert round_half_up(Decimal("-1.5")) == -2


def test_apply_ratio_matches_spec_examples() -> None:
    # SPEC §7: 3,333.33 × 0.60 = 1,999.998 -> 2,000.00; 0.01 × 0.60 = 0.006 -> 0.01
    assert apply_ratio(333333, 6000) == 200000
    assert apply_ratio(1, 6000) == 1
    # half a fen exactly rounds away from zero, both signs
    assert apply_ratio(10, 500) == 1  # 0.5 fen
    assert apply_ratio(-10, 500) == -1
    assert apply_ratio(30000_01 * 1, 500) == 150000  # 1,500.0005 -> 1,500.00


@given(
    st.integers(min_value=-MAX_FEN, max_value=MAX_FEN), st.integers(min_value=0, max_value=10_000)
)
def test_apply_ratio_equals_decimal_half_up(amount: int, ratio_bp: int) -> None:
    expected = round_half_up(Decimal(amount) * Decimal(ratio_bp) / Decimal(10_000))
    assert apply_ratio(amount, ratio_bp) == expected


def test_ratios() -> None:
    assert to_bp("0.60") == 6000
    assert to_bp("1") == 10000
    assert to_bp("0.05") == 500
    assert bp_str(6000) == "0.60"
    assert bp_str(10000) == "1.00"
    for bad, rule in [
        ("1.01", "ratio_range"),
        ("-0.1", "ratio_range"),
        ("0.605", "ratio_decimals"),
        ("2", "ratio_range"),
        (0.6, "ratio_type"),
        ("abc", "ratio_range"),
    ]:
        with pytest.raises(MoneyError) as caught:
            to_bp(bad)
        assert caught.value.rule == rule, bad
