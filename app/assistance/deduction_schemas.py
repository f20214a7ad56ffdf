"""Wire models of the deduction data and of the person-year (SPEC-ASSISTANCE A7, A10;
scenario event `deduction`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.assistance.policy import Category, Visit
from app.assistance.rules import DeductionKind
from app.money import YuanOut, YuanPositive

Reference = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$", examples=["D-2026-0001"])]
PsnNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$", examples=["P1"])]
FixmedinsCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$", examples=["H001"])]
SetlId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$", examples=["S1"])]
InvoiceNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$", examples=["INV-0001"])]
Year = Annotated[int, Field(ge=2000, le=2099, examples=[2026])]


class DeductionIn(BaseModel):
    """One deduction record (the scenario event `deduction`): a per-item type names one item
    (`fixmedins_code` + `setl_id`, or `invoice_no`), `burden_relief` names a `year`."""

    model_config = ConfigDict(extra="forbid")

    reference: Reference
    type: DeductionKind
    psn_no: PsnNo
    amount: YuanPositive
    fixmedins_code: FixmedinsCode | None = None
    setl_id: SetlId | None = None
    invoice_no: InvoiceNo | None = None
    year: Year | None = Field(default=None, description="burden_relief only: the person-year")


class DeductionOut(BaseModel):
    reference: str
    type: DeductionKind
    psn_no: str
    year: int
    fixmedins_code: str | None
    setl_id: str | None
    invoice_no: str | None
    item_key: str | None
    amount: YuanOut
    recorded_at: datetime
    recorded_by: str


class DeductionImportOut(BaseModel):
    rows: int
    recorded: int = Field(description="new records stored by this import")
    replayed: int = Field(description="rows whose reference was stored with the same content")
    deductions: list[DeductionOut]


class PersonYearItemOut(BaseModel):
    key: str = Field(description="S:<fixmedins_code>:<setl_id> or I:<invoice_no>")
    date: date
    at: datetime
    visit: Visit
    gross_base: YuanOut = Field(description="policy-range cost after every insurer")
    deducted: YuanOut = Field(description="per-item deductions taken (never beyond the base)")
    relief: YuanOut = Field(description="this item's share of burden relief")
    base: YuanOut
    category: Category | None = Field(description="the category that pays most (就高不重复)")
    amount: YuanOut
    maf_pay: YuanOut = Field(description="assistance the hospital advanced (settlements)")


class PersonYearDeductionOut(BaseModel):
    reference: str
    type: DeductionKind
    item_key: str | None
    amount: YuanOut
    counted: bool = Field(description="false: its item is revoked or no longer an item")


class GrantedOut(BaseModel):
    maf_pay: YuanOut
    applications: YuanOut
    clearings: YuanOut


class PersonYearOut(BaseModel):
    psn_no: str
    year: int
    region_code: str
    items: list[PersonYearItemOut]
    deductions: list[PersonYearDeductionOut]
    relief: YuanOut = Field(description="Σ burden relief of the year")
    relief_spread: YuanOut = Field(description="what was spread (up to Σ bases)")
    due: YuanOut
    granted: YuanOut
    granted_parts: GrantedOut
    difference: YuanOut = Field(description="due − granted: > 0 owed to the person")
