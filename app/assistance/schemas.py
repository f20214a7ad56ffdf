"""Wire models of the recipients register (API.md conventions; SPEC-ASSISTANCE A2, A10)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.assistance.models import IMPORT_SOURCES
from app.assistance.policy import Category
from app.money import YuanNonNegative, YuanOut

PsnNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$", examples=["P1"])]
Certno = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{6,30}$", examples=["640102199001011234"])]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["640100"])]
AccountNumber = Annotated[str, Field(pattern=r"^[0-9]{6,34}$", examples=["6222000000000001"])]
BankCode = Annotated[str, Field(pattern=r"^[0-9]{12}$", examples=["102871000011"])]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])]
Source = Literal["civil_affairs", "poverty", "disabled_persons"]
assert set(IMPORT_SOURCES) == {"civil_affairs", "poverty", "disabled_persons"}

CATEGORIES_PER_RECORD_MAX = 50
IMPORT_ITEMS_MAX = 20_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryIn(Strict):
    category: Category
    valid_from: date
    valid_to: date | None = Field(default=None, description="last day held (inclusive); null: open")

    @field_validator("valid_to")
    @classmethod
    def _dates(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise PydanticCustomError("valid_to_before_from", "valid_to before valid_from")
        return value


class PersonFields(Strict):
    """The person's fields: a record replaces them all (A10)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    certno: Certno
    region_code: RegionCode
    bank_account: AccountNumber | None = None
    bank_account_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    bank_code: BankCode | None = None
    last_year_income: YuanNonNegative = Field(default=0, description="last year's income (A8)")


class RecipientIn(PersonFields):
    """PUT one person: fields replaced, categories merged by (category, valid_from)."""

    categories: Annotated[list[CategoryIn], Field(max_length=CATEGORIES_PER_RECORD_MAX)] = []


class ImportItem(PersonFields):
    """One line of an office's monthly list: the person holds `category` from `valid_from`,
    or, with `exited_on`, stops holding it after that day (退出)."""

    psn_no: PsnNo
    category: Category
    valid_from: date
    exited_on: date | None = Field(default=None, description="exit: the last day held")

    @field_validator("exited_on")
    @classmethod
    def _exit_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise PydanticCustomError("exited_before_from", "exited_on before valid_from")
        return value


class ImportIn(Strict):
    source: Source
    month: Month
    items: Annotated[list[ImportItem], Field(max_length=IMPORT_ITEMS_MAX)]


class CategoryOut(BaseModel):
    category: Category
    valid_from: date
    valid_to: date | None


class RecipientOut(BaseModel):
    psn_no: str
    name: str
    certno: str = Field(description="masked (6401**********1234) for every role but admin")
    region_code: str
    bank_account: str | None
    bank_account_name: str | None
    bank_code: str | None
    last_year_income: YuanOut
    categories: list[CategoryOut]
    updated_at: datetime


ImportFlag = Literal["new", "updated", "exited"]


class ImportLineOut(BaseModel):
    psn_no: str
    flag: ImportFlag = Field(description="new: not in the register before; exited: ended")
    category: Category


class ImportOut(BaseModel):
    source: Source
    month: str
    items: int
    new: int
    updated: int
    exited: int
    lines: list[ImportLineOut]
    imported_at: datetime
    imported_by: str
