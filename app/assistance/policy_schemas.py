"""Wire models of the stored assistance policy (SCENARIOS.md `assistance_policies`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.money import Ratio, YuanNonNegative

RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["640100"])]
MonthDay = Annotated[str, Field(description='MM-DD, e.g. "01-10"', examples=["01-10"])]
CATEGORIES_MAX = 20
DISEASES_MAX = 200


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleIn(Strict):
    """One category and visit type: bands [[from_yuan, ratio]], yearly deductible and cap."""

    bands: Annotated[
        list[tuple[YuanNonNegative, Ratio]],
        Field(min_length=1, max_length=20, examples=[[["0.00", "0.80"], ["20000.00", "0.90"]]]),
    ]
    deductible: YuanNonNegative = Field(default=0, description="年度起付线; 0.00 = 不设")
    cap: YuanNonNegative | None = Field(default=None, description="年度最高救助限额; null = 不设")


class AssistancePolicyIn(Strict):
    """One effective-dated version of a region's assistance policy (A4, A6, A8)."""

    region: RegionCode
    effective_from: date
    burden_line: Ratio = Field(default=4000, description="综合减负提醒线 (share of income)")
    prepayment_rate: Ratio = Field(default=2500, description="预付比例")
    prepayment_day: MonthDay = "01-10"
    care_grant: YuanNonNegative = Field(default=500_000, description="大病关怀救助")
    care_grant_diseases: Annotated[list[str], Field(max_length=DISEASES_MAX)] = Field(
        default_factory=list
    )
    categories: Annotated[dict[str, dict[str, RuleIn]], Field(max_length=CATEGORIES_MAX)] = Field(
        default_factory=dict
    )


class AssistancePolicyOut(AssistancePolicyIn):
    created_at: datetime
    created_by: str
