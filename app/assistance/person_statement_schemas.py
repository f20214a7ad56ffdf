"""The person's assistance statement of a year as JSON (issue 22 item 6): amounts as yuan
strings; the certificate number masked for every role but admin."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.assistance.deduction_schemas import GrantedOut
from app.assistance.policy import Category, Visit
from app.money import YuanOut


class HeldOut(BaseModel):
    category: Category
    valid_from: date
    valid_to: date | None


class StatementPersonOut(BaseModel):
    psn_no: str
    name: str
    certno: str = Field(description="masked (6401**********1234) for every role but admin")
    region: str
    region_name: str
    last_year_income: YuanOut
    categories: list[HeldOut] = Field(description="the categories held on a day of the year")


class PayersOut(BaseModel):
    hifp: YuanOut
    hifob: YuanOut
    hifmi: YuanOut
    cvlserv: YuanOut
    hifes: YuanOut
    oth: YuanOut
    maf: YuanOut = Field(description="assistance the hospital advanced (0 for an invoice)")


class StatementItemOut(BaseModel):
    date: date
    key: str = Field(description="S:<fixmedins_code>:<setl_id> or I:<invoice_no>")
    source: str = Field(description="settlement or invoice")
    fixmedins_code: str | None
    hospital: str | None
    setl_id: str | None
    invoice_no: str | None
    application: str | None = Field(description="the reference of the invoice's application")
    visit: Visit
    medfee: YuanOut
    inscp: YuanOut
    payers: PayersOut
    acct_pay: YuanOut | None
    cash: YuanOut | None
    gross_base: YuanOut
    deducted: YuanOut
    relief: YuanOut
    base: YuanOut
    category: Category | None
    amount: YuanOut


class StatementClearingOut(BaseModel):
    reference: str
    kind: str | None
    made_at: datetime | None
    difference: YuanOut
    resolution: str | None
    status: str | None


class StatementPaymentOut(BaseModel):
    reference: str
    kind: str
    recorded_on: date
    amount: YuanOut
    year_part: YuanOut | None = Field(description="an application's part of this year")
    deducted: YuanOut
    paid: YuanOut
    status: str


class PersonStatementOut(BaseModel):
    year: int
    person: StatementPersonOut
    items: list[StatementItemOut]
    due: YuanOut
    granted: YuanOut
    granted_parts: GrantedOut
    difference: YuanOut = Field(description="due − granted: > 0 owed to the person")
    clearings: list[StatementClearingOut]
    payments: list[StatementPaymentOut]
    receivable: YuanOut = Field(description="what the person owes now (open claims, any year)")
