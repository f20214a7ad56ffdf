"""The scenario file (SCENARIOS.md), validated before anything plays."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_TYPES = (
    "settlement",
    "revoke",
    "reconcile",
    "declare",
    "audit",
    "appeal",
    "review",
    "consultation",
    "procurement_advance",
    "assessment",
    "repayment",
    "appropriation",
)
EVENTS_MAX = 1_000_000
SCENARIO_DAYS_MAX = 3 * 366


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Auto(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reconcile: bool = False
    declare: bool = False
    approve: bool = False
    confirm: bool = False


class RegionSpec(BaseModel):
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    name: str
    division_prefixes: list[str] | None = None


class FundSpec(Open):
    region: str
    insutype: Literal["310", "390"]
    daily_ratio: str = "0.60"
    deposit_rate: str = "0.05"
    effective_from: date
    approval_threshold: str | None = None
    requires_settlement_list: bool = False
    submission_time: str | None = None
    cutoff_time: str | None = None


class InstitutionSpec(Open):
    code: str
    name: str
    level: int
    region: str
    insutypes: list[Literal["310", "390"]]
    bank_account: str
    bank_account_name: str
    bank_code: str


class CalendarSpec(BaseModel):
    date: date
    working: bool


class EventSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime
    type: Literal[
        "settlement",
        "revoke",
        "reconcile",
        "declare",
        "audit",
        "appeal",
        "review",
        "consultation",
        "procurement_advance",
        "assessment",
        "repayment",
        "appropriation",
    ]
    data: dict[str, Any]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    start: date
    end: date
    auto: Auto = Auto()
    regions: list[RegionSpec]
    funds: list[FundSpec]
    institutions: list[InstitutionSpec]
    calendar: list[CalendarSpec] = []
    bank: list[dict[str, Any]] = []
    annual_rules: list[dict[str, Any]] = []
    events: Annotated[list[EventSpec], Field(max_length=EVENTS_MAX)] = []

    def check(self) -> None:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > SCENARIO_DAYS_MAX:
            raise ValueError(f"a scenario spans at most {SCENARIO_DAYS_MAX} days")

    def first_period(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def event_moments(self) -> list[tuple[datetime, int]]:
        return sorted((event.at, index) for index, event in enumerate(self.events))
