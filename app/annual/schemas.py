from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.money import Ratio, RatioOut, YuanNonNegative, YuanOut
from app.payables.machine import StatusValue


def _score(value: Any) -> int:
    """A score 0–100 with at most two decimals -> hundredths of a point."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | float):
        raise PydanticCustomError("score_type", "a score is a number from 0 to 100")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise PydanticCustomError("score_type", "a score is a number from 0 to 100") from None
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int) or exponent < -2:
        raise PydanticCustomError("score_decimals", "a score has at most two decimals")
    if not 0 <= number <= 100:
        raise PydanticCustomError("score_range", "a score lies from 0 to 100")
    return int(number * 100)


Score = Annotated[
    int,
    BeforeValidator(_score),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01}),
]


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_score: Score
    return_ratio: Ratio


def _covers_every_score(bands: list[Band]) -> list[Band]:
    """Every score takes a band: one band starts at 0, and no two start at the same score."""
    starts = [band.min_score for band in bands]
    if 0 not in starts:
        raise PydanticCustomError(
            "bands_from_zero", "one band has min_score 0 so every score has a band"
        )
    if len(set(starts)) != len(starts):
        raise PydanticCustomError("bands_distinct", "two bands start at the same score")
    return bands


Bands = Annotated[
    list[Band], Field(min_length=1, max_length=20), AfterValidator(_covers_every_score)
]


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: Annotated[int, Field(ge=2000, le=2099)]
    assessment_bands: Bands
    credit_bands: Bands
    start_date: date | None = None
    deadline: date | None = None


class BandOut(BaseModel):
    min_score: float
    return_ratio: RatioOut


class RulesOut(BaseModel):
    year: int
    assessment_bands: list[BandOut]
    credit_bands: list[BandOut]
    start_date: date
    deadline: date


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: Annotated[int, Field(ge=2000, le=2099)]
    fixmedins_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$")]
    insutype: Literal["310", "390"]
    assessment_score: Score
    credit_score: Score
    clearing_amount: YuanNonNegative | None = None
    budget: YuanNonNegative | None = None


class AssessmentOut(BaseModel):
    year: int
    fixmedins_code: str
    insutype: str
    assessment_score: float
    credit_score: float
    clearing_amount: YuanOut | None
    budget: YuanOut | None


class ClearingOut(BaseModel):
    id: int
    year: int
    region_code: str
    insutype: str
    fixmedins_code: str
    status: StatusValue
    version: int
    approved_fund: YuanOut
    clearing_amount: YuanOut
    settled: YuanOut
    deposit_held: YuanOut
    return_ratio: RatioOut
    forfeited: YuanOut
    gross: YuanOut
    offset: YuanOut
    actual: YuanOut
    base: Any
    computed_at: datetime
    computed_by: str
    confirmed_at: datetime | None
    confirmation_reference: str | None
    dispute_reason: str | None
    approved_at: datetime | None
    approved_by: str | None
    instruction_id: str | None
    payment_result_at: datetime | None


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="reference of the stamped confirmation document (盖章确认)"
    )


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=300)]
