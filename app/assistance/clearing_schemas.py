"""Wire models of the individual clearing (SPEC-ASSISTANCE A7, A10; scenario events
`assistance_clear`, `assistance_annual_clearing`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.assistance.recovery import Resolution
from app.assistance.schemas import PsnNo, RegionCode
from app.money import YuanOut

ClearingRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,40}$", examples=["C-2026-0001"])]
Prefix = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,20}$", examples=["RT20260521"])]
Year = Annotated[int, Field(ge=2000, le=2099, examples=[2026])]
ModeValue = Literal["realtime", "annual"]
Amount = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["500.00"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClearIn(Strict):
    """实时清算 of one person-year (the scenario event `assistance_clear`)."""

    reference: ClearingRef = Field(description="the case worker's reference (idempotent on it)")
    psn_no: PsnNo
    year: Year
    resolution: Resolution | None = Field(
        default=None, description="for a negative difference: next_period (default) or cash"
    )


class AnnualClearingIn(Strict):
    region: RegionCode
    year: Year


class PersonYearIn(Strict):
    psn_no: PsnNo
    year: Year


class ClearSuggestionsIn(Strict):
    """Clear several person-years or every suggestion of a region (`persons` null), each
    under `<reference_prefix>:<psn_no>:<year>` (at most 40 characters)."""

    region: RegionCode
    reference_prefix: Prefix
    persons: list[PersonYearIn] | None = Field(default=None, max_length=1000)
    resolution: Resolution | None = None


class AssistanceClearingOut(BaseModel):
    reference: str
    psn_no: str
    region: str
    year: int
    mode: ModeValue
    due: YuanOut
    granted: YuanOut = Field(description="granted before this result")
    difference: YuanOut = Field(description="due − granted: > 0 a top-up, < 0 a claim")
    resolution: Resolution | None
    made_at: datetime
    made_by: str
    snapshot_hash: str = Field(description="sha256 of the snapshot's canonical JSON")
    taken_back: bool = Field(description="its top-up was rejected: no longer in granted")


class ClearingDetailOut(AssistanceClearingOut):
    snapshot: dict[str, Any] = Field(description="the inputs as computed at the clearing")


class AnnualClearingOut(BaseModel):
    region: str
    year: int
    persons: int
    made_at: datetime
    clearings: list[AssistanceClearingOut]


class SuggestionOut(BaseModel):
    psn_no: str
    region: str
    year: int
    difference: YuanOut
    found_at: datetime


class ClearedOut(BaseModel):
    psn_no: str
    year: int
    reference: str
    outcome: Literal["cleared", "replayed", "nothing-to-clear"]
    clearing: AssistanceClearingOut | None


class NoticeItemOut(BaseModel):
    key: str
    date: str
    visit: str
    visit_label: str
    base: Amount
    category: str | None
    category_label: str
    amount: Amount


class NoticeOut(BaseModel):
    """事前告知 of a negative result, for the console's printable page."""

    reference: str
    title: str
    psn_no: str
    name: str
    region: str
    year: int
    mode: ModeValue
    made_at: datetime
    items: list[NoticeItemOut]
    deductions: list[dict[str, Any]]
    due: Amount
    granted: Amount = Field(description="granted before the result")
    owed: Amount = Field(description="what the person owes (the negative difference, positive)")
    resolution: Resolution
    resolution_label: str
    how_recovered: str
    open: Amount = Field(description="what is still open of the claim")
    notice_delivered_at: datetime | None
    snapshot_hash: str
