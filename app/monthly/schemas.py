from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.money import RatioOut, YuanNonNegative, YuanOut, YuanPositive
from app.payables.machine import StatusValue

Period = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])]
Code = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$")]
SetlId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$")]
RuleCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
Text = Annotated[str, Field(min_length=1, max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeclarationIn(Strict):
    fixmedins_code: Code
    insutype: Literal["310", "390"]
    period: Period


class DeclarationOut(BaseModel):
    fixmedins_code: str
    insutype: str
    period: str
    declared_at: datetime
    declared_by: str
    late: bool


class ReopenIn(Strict):
    reason: Text


class AuditIn(Strict):
    fixmedins_code: Code
    setl_id: SetlId
    rule_code: RuleCode
    amount: YuanPositive
    reason: Text


class BulkAuditIn(Strict):
    items: Annotated[list[AuditIn], Field(max_length=5000)]


class AppealIn(Strict):
    reason: Text


class ReviewIn(Strict):
    amount: YuanNonNegative
    final: bool


class ConsultationIn(Strict):
    amount: YuanNonNegative


class AuditStepOut(BaseModel):
    action: str
    amount: YuanOut | None
    note: str
    at: datetime
    actor: str


class AuditOut(BaseModel):
    fixmedins_code: str
    setl_id: str
    rule_code: str
    period: str
    reason: str
    status: str
    initial_amount: YuanOut
    final_amount: YuanOut | None
    result_date: date
    appeal_deadline: date
    taken_statement_id: int | None
    history: list[AuditStepOut] = []


class AdvanceIn(Strict):
    fixmedins_code: Code
    insutype: Literal["310", "390"]
    period: Period
    amount: YuanPositive
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


class AdvanceOut(BaseModel):
    fixmedins_code: str
    insutype: str
    period: str
    amount: YuanOut
    reference: str
    registered_at: datetime
    taken_statement_id: int | None


class StatementOut(BaseModel):
    id: int
    region_code: str
    insutype: str
    fixmedins_code: str
    period: str
    status: StatusValue
    version: int
    deposit_rate: RatioOut
    fund_pay: YuanOut
    deposit: YuanOut
    ratio_amount: YuanOut
    audit: YuanOut
    daily_paid: YuanOut
    procurement: YuanOut
    returned: YuanOut
    offset: YuanOut
    net: YuanOut
    computed_at: datetime
    computed_by: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    dispute_reason: str | None
    approved_at: datetime | None
    approved_by: str | None
    instruction_id: str | None
    payment_result_at: datetime | None


class ConfirmIn(Strict):
    reference: Annotated[str, Field(max_length=80)] | None = Field(
        default=None, description="reference of a stamped paper confirmation (盖章确认), if any"
    )


class DisputeIn(Strict):
    reason: Text


class RepaymentIn(Strict):
    amount: YuanPositive
    receipt_no: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


class ReceivableOut(BaseModel):
    region_code: str
    insutype: str
    fixmedins_code: str
    balance: YuanOut
    open: YuanOut
