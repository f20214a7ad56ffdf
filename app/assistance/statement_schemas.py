"""Request and answer bodies of the assistance statements API (issue 21.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.money import YuanOut
from app.payables.machine import StatusValue

Code = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$")]
SetlId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$")]
DocumentName = Literal["diagnosis", "assistance_sheet", "advance_form"]
DocumentStatusValue = Literal["RECORDED", "REJECTED"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentsIn(Strict):
    fixmedins_code: Code
    setl_id: SetlId
    documents: Annotated[list[DocumentName], Field(min_length=1, max_length=3)]


class BulkDocumentsIn(Strict):
    items: Annotated[list[DocumentsIn], Field(min_length=1, max_length=5000)]


class DocumentRejectIn(Strict):
    fixmedins_code: Code
    setl_id: SetlId
    document: DocumentName
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class DocumentsOut(BaseModel):
    fixmedins_code: str
    setl_id: str
    documents: dict[str, DocumentStatusValue | None]
    payable: bool


class BulkDocumentsOut(BaseModel):
    items: list[DocumentsOut]


class StatementLineOut(BaseModel):
    setl_id: str
    amount: YuanOut
    negative: bool


class AssistanceStatementOut(BaseModel):
    id: int
    region_code: str
    insutype: str
    fixmedins_code: str
    period: str
    status: StatusValue
    version: int
    lines_amount: YuanOut
    negative_amount: YuanOut
    offset: YuanOut
    amount: YuanOut
    settlements: int
    carried: int
    computed_at: datetime
    computed_by: str
    confirmed_at: datetime | None
    confirmed_by: str | None
    dispute_reason: str | None
    approved_at: datetime | None
    approved_by: str | None
    instruction_id: str | None
    payment_result_at: datetime | None


class AssistanceStatementDetailOut(AssistanceStatementOut):
    lines: list[StatementLineOut]
