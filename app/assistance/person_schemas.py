"""Wire models of the payments to persons, applications, care grants, claims and repayments
(API.md "Medical assistance"; SPEC-ASSISTANCE A6, A7, A10)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.assistance.person_status import KindValue, StatusValue
from app.assistance.policy import Visit
from app.assistance.schemas import PsnNo, RegionCode
from app.money import YuanNonNegative, YuanOut, YuanPositive

Reference = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,40}$", examples=["A1"])]
InvoiceNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$", examples=["INV0001"])]
ReceiptNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$", examples=["R20261120"])]
INVOICES_MAX = 100
PAYERS = ("hifp_pay", "hifob_pay", "hifmi_pay", "cvlserv_pay", "hifes_pay", "oth_pay")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InvoiceIn(Strict):
    """One invoice of an application (A6): costs and what each insurer paid (A3's fields)."""

    invoice_no: InvoiceNo
    visit: Visit
    date: date
    medfee_sumamt: YuanNonNegative
    inscp_scp_amt: YuanNonNegative
    hifp_pay: YuanNonNegative = 0
    hifob_pay: YuanNonNegative = 0
    hifmi_pay: YuanNonNegative = 0
    cvlserv_pay: YuanNonNegative = 0
    hifes_pay: YuanNonNegative = 0
    oth_pay: YuanNonNegative = 0

    @model_validator(mode="after")
    def _totals(self) -> InvoiceIn:
        if self.inscp_scp_amt > self.medfee_sumamt:
            raise PydanticCustomError(
                "inscp_within_total", "inscp_scp_amt must not exceed medfee_sumamt"
            )
        if sum(getattr(self, payer) for payer in PAYERS) > self.medfee_sumamt:
            raise PydanticCustomError("payers_within_total", "the payers exceed medfee_sumamt")
        return self


class ApplicationIn(Strict):
    reference: Reference
    psn_no: PsnNo
    invoices: Annotated[list[InvoiceIn], Field(min_length=1, max_length=INVOICES_MAX)]

    @model_validator(mode="after")
    def _distinct(self) -> ApplicationIn:
        numbers = [invoice.invoice_no for invoice in self.invoices]
        if len(set(numbers)) != len(numbers):
            raise PydanticCustomError("invoice_repeated", "an invoice is listed twice")
        return self


class CareGrantIn(Strict):
    reference: Reference
    psn_no: PsnNo
    disease: Annotated[str, Field(min_length=1, max_length=100)]
    amount: YuanPositive | None = Field(default=None, description="default: the policy's")


class PaymentRejectIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class PersonRepaymentIn(Strict):
    psn_no: PsnNo
    region: RegionCode
    amount: YuanPositive
    receipt_no: ReceiptNo


class YearAmountOut(BaseModel):
    year: int
    amount: YuanOut


class PersonPaymentOut(BaseModel):
    id: int
    kind: KindValue
    reference: str
    psn_no: str
    region_code: str
    amount: YuanOut
    deducted: YuanOut
    paid: YuanOut
    status: StatusValue
    years: list[YearAmountOut] = Field(description="an application's amount per year")
    disease: str | None
    recorded_at: datetime
    recorded_by: str
    approved_at: datetime | None
    approved_by: str | None
    rejected_at: datetime | None
    reject_reason: str | None
    instruction_id: str | None


class PersonReceivableOut(BaseModel):
    region: str
    psn_no: str
    balance: YuanOut


class ClaimOut(BaseModel):
    reference: str
    psn_no: str
    region: str
    year: int
    amount: YuanOut
    open: YuanOut
    resolution: str
    made_at: datetime
    notice_delivered_at: datetime | None


class RepaymentOut(BaseModel):
    receipt_no: str
    psn_no: str
    region: str
    amount: YuanOut
    claims: dict[str, YuanOut]
    recorded_at: datetime
