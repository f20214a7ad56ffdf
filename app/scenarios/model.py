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
# SCENARIOS.md "Assistance" (SPEC-ASSISTANCE.md): the assistance fund's events.
ASSISTANCE_EVENT_TYPES = (
    "assistance_documents",
    "assistance_document_reject",
    "recipient",
    "application",
    "deduction",
    "assistance_clear",
    "assistance_notice_delivered",
    "assistance_annual_clearing",
    "care_grant",
    "person_repayment",
    "prepayment_approve",
    "prepayment_receive",
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


class AssistanceFundSpec(BaseModel):
    """A region's assistance fund ledger `610` and the day it is switched on (A1)."""

    model_config = ConfigDict(extra="forbid")
    region: str
    effective_from: date


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
        "assistance_documents",
        "assistance_document_reject",
        "recipient",
        "application",
        "deduction",
        "assistance_clear",
        "assistance_notice_delivered",
        "assistance_annual_clearing",
        "care_grant",
        "person_repayment",
        "prepayment_approve",
        "prepayment_receive",
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
    assistance_funds: list[AssistanceFundSpec] = []
    assistance_policies: list[dict[str, Any]] = []
    recipients: list[dict[str, Any]] = []
    events: Annotated[list[EventSpec], Field(max_length=EVENTS_MAX)] = []

    def check(self) -> None:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > SCENARIO_DAYS_MAX:
            raise ValueError(f"a scenario spans at most {SCENARIO_DAYS_MAX} days")
        assistance = [e.type for e in self.events if e.type in ASSISTANCE_EVENT_TYPES]
        if (assistance or self.recipients or self.assistance_policies) and not (
            self.assistance_funds
        ):
            raise ValueError("assistance events, recipients or policies need `assistance_funds`")

    @property
    def has_assistance(self) -> bool:
        """The scenario plays the assistance fund (its result carries the assistance keys)."""
        return bool(self.assistance_funds)

    def first_period(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def event_moments(self) -> list[tuple[datetime, int]]:
        return sorted((event.at, index) for index, event in enumerate(self.events))
