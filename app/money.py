"""Money: integer fen inside, yuan strings with at most two decimals at the edges.

Rounding is half away from zero to the fen (SPEC.md §2), applied only where the spec says.
Ratios (daily_ratio, deposit_rate, return_ratio) are exact decimals held as basis points
(1/10,000) so that SQL can apply them with integer arithmetic.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

# The largest amount accepted at the edge: 100,000,000,000.00 yuan (10^13 fen). A single
# settlement or document above it is a data error; sums of millions stay within BIGINT.
MAX_FEN = 10**13
BP_PER_UNIT = 10_000  # basis points in a ratio of 1

_YUAN_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]{1,2})?\Z")
_RATIO_RE = re.compile(r"^(0|1)(\.[0-9]{1,4})?\Z")


class MoneyError(ValueError):
    """A refused amount; `rule` names the broken rule for problem JSON."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def _decimal_of(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise MoneyError("amount_type", 'an amount is a yuan string such as "1234.56"')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyError("amount_finite", "NaN and infinities are not amounts")
        text = repr(value)
        if "e" in text or "E" in text:
            raise MoneyError("amount_no_exponent", "amounts are written without an exponent")
        return Decimal(text)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError("amount_finite", "NaN and infinities are not amounts")
        text = str(value)
        if "E" in text or "e" in text:
            raise MoneyError("amount_no_exponent", "amounts are written without an exponent")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text != value or not _YUAN_RE.match(text):
            if re.match(r"^-?[0-9]+\.[0-9]{3,}\Z", text):
                raise MoneyError("amount_decimals", "at most two decimals (fen)")
            raise MoneyError("amount_format", 'an amount is a yuan string such as "1234.56"')
        return Decimal(text)
    raise MoneyError("amount_type", 'an amount is a yuan string such as "1234.56"')


_YUAN_PARTS_RE = re.compile(r"^(-?)(0|[1-9][0-9]{0,14})(?:\.([0-9]{1,2}))?\Z")


def to_fen(value: Any) -> int:
    """Yuan (string, JSON number as Decimal, int) -> integer fen. Refuses > 2 decimals."""
    if type(value) is str:
        # Fast path for the common case ("1234.56"): integer arithmetic, no Decimal.
        match = _YUAN_PARTS_RE.match(value)
        if match is not None:
            sign, whole, cents = match.groups()
            fen = int(whole) * 100 + (int(cents.ljust(2, "0")) if cents else 0)
            if fen > MAX_FEN:
                raise MoneyError("amount_max", "amount beyond 100000000000.00 yuan")
            return -fen if sign else fen
    amount = _decimal_of(value)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -2:
        raise MoneyError("amount_decimals", "at most two decimals (fen)")
    fen = int(amount * 100)
    if abs(fen) > MAX_FEN:
        raise MoneyError("amount_max", "amount beyond 100000000000.00 yuan")
    return fen


def yuan(fen: int) -> str:
    """Integer fen -> '1234.56' (always two decimals, '-' for negatives)."""
    assert isinstance(fen, int) and not isinstance(fen, bool), "fen are integers"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def round_half_up(value: Decimal) -> int:
    """A decimal amount of fen -> integer fen, half away from zero (−0.5 -> −1)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def apply_ratio(amount_fen: int, ratio_bp: int) -> int:
    """round_half_up(amount × ratio) in integer arithmetic; ratio in basis points."""
    assert 0 <= ratio_bp <= BP_PER_UNIT, "ratios lie in [0, 1]"
    quotient, remainder = divmod(abs(amount_fen) * ratio_bp, BP_PER_UNIT)
    if remainder * 2 >= BP_PER_UNIT:
        quotient += 1
    return -quotient if amount_fen < 0 else quotient


def to_bp(value: Any, *, decimals_max: int = 2) -> int:
    """A ratio in [0, 1] written as a decimal string ("0.60") -> basis points (6000)."""
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise MoneyError("ratio_type", 'a ratio is a decimal string such as "0.60"')
    text = str(value)
    if not _RATIO_RE.match(text):
        raise MoneyError("ratio_range", 'a ratio is a decimal in [0, 1] such as "0.60"')
    ratio = Decimal(text)
    exponent = ratio.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > decimals_max:
        raise MoneyError("ratio_decimals", f"at most {decimals_max} decimals")
    if ratio > 1:
        raise MoneyError("ratio_range", "a ratio lies in [0, 1]")
    return int(ratio * BP_PER_UNIT)


def bp_str(ratio_bp: int) -> str:
    """Basis points -> '0.60' (two decimals unless more are needed)."""
    text = f"{Decimal(ratio_bp) / BP_PER_UNIT:.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text


# --- Pydantic wire types -------------------------------------------------------------------


def _pydantic_fen(value: Any) -> int:
    try:
        return to_fen(value)
    except MoneyError as error:
        raise PydanticCustomError(error.rule, error.message) from None


def _pydantic_fen_non_negative(value: Any) -> int:
    fen = _pydantic_fen(value)
    if fen < 0:
        raise PydanticCustomError("amount_non_negative", "the amount must not be negative")
    return fen


def _pydantic_fen_positive(value: Any) -> int:
    fen = _pydantic_fen(value)
    if fen <= 0:
        raise PydanticCustomError("amount_positive", "the amount must be greater than zero")
    return fen


def _pydantic_bp(value: Any) -> int:
    try:
        return to_bp(value)
    except MoneyError as error:
        raise PydanticCustomError(error.rule, error.message) from None


_YUAN_TEXT = {"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["1234.56"]}
_YUAN_SCHEMA = WithJsonSchema(_YUAN_TEXT)
# In requests a JSON number with at most two decimals (and no exponent) is accepted too.
_YUAN_IN_TEXT = {**_YUAN_TEXT, "pattern": r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"}
_YUAN_IN_SCHEMA = WithJsonSchema(
    {"anyOf": [_YUAN_IN_TEXT, {"type": "number", "multipleOf": 0.01}]}, mode="validation"
)
_YUAN_OUT_SCHEMA = WithJsonSchema(_YUAN_TEXT, mode="serialization")
_yuan_out = PlainSerializer(yuan, return_type=str, when_used="always")

# Signed amount (documents may be negative).
Yuan = Annotated[int, BeforeValidator(_pydantic_fen), _yuan_out, _YUAN_IN_SCHEMA, _YUAN_OUT_SCHEMA]
# Amount that must be >= 0 (settlement fields).
YuanNonNegative = Annotated[
    int, BeforeValidator(_pydantic_fen_non_negative), _yuan_out, _YUAN_IN_SCHEMA, _YUAN_OUT_SCHEMA
]
# Amount that must be > 0 (repayments, advances, appropriations).
YuanPositive = Annotated[
    int, BeforeValidator(_pydantic_fen_positive), _yuan_out, _YUAN_IN_SCHEMA, _YUAN_OUT_SCHEMA
]
# Ratio in [0, 1] with at most two decimals, held as basis points.
Ratio = Annotated[
    int,
    BeforeValidator(_pydantic_bp),
    PlainSerializer(bp_str, return_type=str, when_used="always"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(0|1)(\.\d{1,2})?$", "examples": ["0.60"]},
                {"type": "number", "minimum": 0, "maximum": 1, "multipleOf": 0.01},
            ]
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "examples": ["0.60"]}, mode="serialization"),
]

# Output-only types: the value is already fen / basis points; only serialisation applies.
# (Input types parse yuan; never use them in response models.)
YuanOut = Annotated[int, _yuan_out, _YUAN_SCHEMA]
RatioOut = Annotated[
    int,
    PlainSerializer(bp_str, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "examples": ["0.60"]}),
]
