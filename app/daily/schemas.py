from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.daily.rules import BatchStatus, LineStatus
from app.money import RatioOut, YuanOut


class LineOut(BaseModel):
    batch_id: int
    business_date: date
    region_code: str
    insutype: str
    fixmedins_code: str
    pay_date: date
    settlements: int
    fund_total: YuanOut
    amount: YuanOut
    late: bool
    held: bool
    withdrawn: bool
    instruction_id: str | None
    status: LineStatus


class DetailOut(BaseModel):
    setl_id: str
    setl_date: date
    period: str
    fund_amount: YuanOut
    daily_ratio: RatioOut
    daily_amount: YuanOut


class LineDetailOut(LineOut):
    details: list[DetailOut]


class BatchOut(BaseModel):
    id: int
    region_code: str
    insutype: str
    business_date: date
    pay_date: date
    status: BatchStatus
    generated_at: datetime
    pushed_at: datetime
    pushed_by: str
    approvals_required: int
    approved_by: list[str]
    rejected_reason: str | None
    submitted_at: datetime | None
    settlements: int
    fund_total: YuanOut
    amount: YuanOut
    calendar_warning: str | None = None
    lines: list[LineOut] = []


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held: bool = True
