from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.money import Ratio, RatioOut, YuanOut, YuanPositive

Insutype = Literal["310", "390"]
# A fund ledger's insurance type: a basic fund, or 610 the medical-assistance fund (A1).
FundInsutype = Literal["310", "390", "610"]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["640100"])]
# Institution codes are upper-case letters and digits (national codes: H + 11 digits); at most
# 12 characters so that bank instruction ids stay within 30 characters.
InstitutionCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$", examples=["H001"])]
AccountNumber = Annotated[str, Field(pattern=r"^[0-9]{6,34}$", examples=["6222000000000001"])]
BankCode = Annotated[str, Field(pattern=r"^[0-9]{12}$", examples=["102871000011"])]
Name = Annotated[str, Field(min_length=1, max_length=100)]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["14:30"])]
DivisionPrefix = Annotated[str, Field(pattern=r"^[0-9]{2,6}$")]
MedTypePrefix = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegionIn(Strict):
    code: RegionCode
    name: Annotated[str, Field(min_length=1, max_length=64)]
    division_prefixes: (
        Annotated[list[DivisionPrefix], Field(min_length=1, max_length=50)] | None
    ) = None


class RegionPatch(Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    division_prefixes: (
        Annotated[list[DivisionPrefix], Field(min_length=1, max_length=50)] | None
    ) = None


class RegionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    division_prefixes: list[str]


class FundLedgerIn(Strict):
    region_code: RegionCode
    insutype: FundInsutype
    name: Name
    expenditure_account: AccountNumber
    expenditure_account_name: Name
    requires_settlement_list: bool = False


class FundLedgerPatch(Strict):
    name: Name | None = None
    expenditure_account: AccountNumber | None = None
    expenditure_account_name: Name | None = None
    requires_settlement_list: bool | None = None


class PolicyIn(Strict):
    effective_from: date
    active: bool = True
    daily_ratio: Ratio = Field(default=6000, description="share of the fund amount paid daily")
    deposit_rate: Ratio = Field(default=500, description="quality deposit withheld monthly")
    submission_time: ClockTime = "14:30"
    cutoff_time: Annotated[ClockTime, Field(validate_default=True)] = "15:00"
    declaration_day: Annotated[int, Field(ge=1, le=28)] = 15
    appeal_window_days: Annotated[int, Field(ge=1, le=60)] = 5
    approval_threshold: YuanPositive | None = Field(
        default=None, description="above this a second accountant approves (off when null)"
    )
    funds_check: Literal["warn", "block"] = Field(
        default="warn",
        description="funds check before each submission: warn (alert and send) or block "
        "(hold the submission until an appropriation covers it)",
    )

    @field_validator("cutoff_time")
    @classmethod
    def _cutoff_after_submission(cls, value: str, info: ValidationInfo) -> str:
        submission = info.data.get("submission_time")
        if submission is not None and submission >= value:
            raise PydanticCustomError(
                "cutoff_after_submission", "cutoff_time must be later than submission_time"
            )
        return value


class PolicyOut(BaseModel):
    effective_from: date
    active: bool
    daily_ratio: RatioOut
    deposit_rate: RatioOut
    submission_time: str
    cutoff_time: str
    declaration_day: int
    appeal_window_days: int
    approval_threshold: YuanOut | None
    funds_check: str


class FundLedgerOut(BaseModel):
    region_code: str
    insutype: str
    name: str
    expenditure_account: str
    expenditure_account_name: str
    requires_settlement_list: bool
    switched_on_from: date | None
    policies: list[PolicyOut]


class EnrollmentIn(Strict):
    insutype: Insutype
    start_date: date
    end_date: date | None = None

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value < start:
            raise PydanticCustomError("end_after_start", "end_date must not be before start_date")
        return value


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    insutype: str
    start_date: date
    end_date: date | None


# A person paid by the assistance fund takes the institution slot of the 610 accounts as
# `P<psn_no>` (SPEC-ASSISTANCE A1): an institution code starting with P could be a person's.
PERSON_SLOT_PREFIX = "P"


class InstitutionIn(Strict):
    code: InstitutionCode
    name: Name
    level: Annotated[int, Field(ge=1, le=3, description="hospital level 1–3 (二级及以上 pay)")]
    region_code: RegionCode
    bank_account: AccountNumber
    bank_account_name: Name
    bank_code: BankCode
    med_type_prefixes: Annotated[list[MedTypePrefix], Field(min_length=1, max_length=20)] = ["2"]
    enrollments: Annotated[list[EnrollmentIn], Field(max_length=10)] = []

    @field_validator("code")
    @classmethod
    def _not_a_person_slot(cls, value: str) -> str:
        if value.startswith(PERSON_SLOT_PREFIX):
            raise PydanticCustomError(
                "person_slot_reserved",
                "an institution code may not start with P: P<psn_no> is a person's place in the "
                "assistance fund's accounts (SPEC-ASSISTANCE A1)",
            )
        return value


class InstitutionPatch(Strict):
    name: Name | None = None
    level: Annotated[int, Field(ge=1, le=3)] | None = None
    bank_account: AccountNumber | None = None
    bank_account_name: Name | None = None
    bank_code: BankCode | None = None
    med_type_prefixes: Annotated[list[MedTypePrefix], Field(min_length=1, max_length=20)] | None = (
        None
    )


class InstitutionOut(BaseModel):
    code: str
    name: str
    level: int
    region_code: str
    bank_account: str
    bank_account_name: str
    bank_code: str
    med_type_prefixes: list[str]
    enrollments: list[EnrollmentOut]


class PayeeChangeIn(Strict):
    """A change of the payee: the fields given replace the current ones once approved."""

    bank_account: AccountNumber | None = None
    bank_account_name: Name | None = None
    bank_code: BankCode | None = None
    reason: Annotated[str, Field(min_length=1, max_length=200, description="why (变更原因)")]


class PayeeDecisionIn(Strict):
    note: Annotated[str, Field(min_length=1, max_length=200)]


class PayeeOut(BaseModel):
    bank_account: str
    bank_account_name: str
    bank_code: str


class PayeeChangeOut(BaseModel):
    id: int
    fixmedins_code: str
    status: Literal["PENDING", "APPROVED", "REJECTED"]
    old: PayeeOut
    new: PayeeOut
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
