"""Wire models of the yearly prepayment (SPEC-ASSISTANCE A8)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.assistance.prepayment import PrepaymentStatus
from app.money import RatioOut, YuanOut

Reference = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/-]{1,64}$", examples=["CZ-2027-001"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApproveIn(Strict):
    approval_ref: Reference = Field(description="the finance bureau's approval (财政审批文号)")


class ReceiveIn(Strict):
    bank_reference: Reference = Field(description="the incoming transfer's bank reference")


class ApprovalOut(BaseModel):
    approver: str
    approval_ref: str
    approved_at: datetime


class PrepaymentOut(BaseModel):
    id: int
    year: int
    region_code: str
    computed_on: date
    actual: YuanOut
    rate: RatioOut
    due: YuanOut
    carried: YuanOut
    transfer: YuanOut
    status: PrepaymentStatus
    approvals: list[ApprovalOut]
    bank_reference: str | None
    received_at: datetime | None
