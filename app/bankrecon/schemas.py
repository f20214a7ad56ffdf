"""The bank's end-of-day statement on the wire (docs/bank-statements.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.money import Yuan, YuanOut, YuanPositive

STATEMENT_ENTRIES_MAX = 3_000  # within the 1 MiB request body cap

Text = Annotated[str, Field(max_length=100)]


class StatementEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bank_serial: Annotated[str, Field(min_length=1, max_length=40)]
    direction: Literal["DEBIT", "CREDIT"]
    amount: YuanPositive
    value_date: date
    counterparty_account: Annotated[str, Field(max_length=34)] = ""
    counterparty_name: Text = ""
    business_ref: Annotated[str, Field(min_length=1, max_length=60)]
    summary: Text = ""


class StatementIn(BaseModel):
    """银行对账单: one expenditure account, one working day."""

    model_config = ConfigDict(extra="forbid")
    account: Annotated[str, Field(min_length=1, max_length=34)]
    statement_date: date
    from_date: date
    currency: Literal["CNY"] = "CNY"
    opening_balance: Yuan
    closing_balance: Yuan
    entries: Annotated[list[StatementEntryIn], Field(max_length=STATEMENT_ENTRIES_MAX)]


class StatementEntryOut(BaseModel):
    line_no: int
    bank_serial: str
    direction: str
    amount: YuanOut
    value_date: date
    counterparty_account: str
    counterparty_name: str
    business_ref: str
    match_kind: str | None
    ledger_ref: str | None
    outcome: str
    expected_amount: YuanOut | None


class ReconciliationOut(BaseModel):
    """余额调节表 and the differences found."""

    bank_closing_balance: YuanOut
    bank_only: YuanOut  # booked by the bank, not (yet) by the ledger; + money in
    ledger_only: YuanOut  # booked by the ledger, not (yet) by the bank
    adjusted_bank_balance: YuanOut
    ledger_balance: YuanOut
    unexplained: YuanOut
    items: dict[str, Any]


class StatementOut(BaseModel):
    id: int
    account: str
    region_code: str
    insutype: str
    statement_date: date
    from_date: date
    version: int
    opening_balance: YuanOut
    closing_balance: YuanOut
    entry_count: int
    source: str
    received_at: datetime
    received_by: str
    superseded_at: datetime | None
    superseded_by_id: int | None
    status: str
    reconciliation: ReconciliationOut
    entries: list[StatementEntryOut] | None = None


class StatementPage(BaseModel):
    items: list[StatementOut]
    next_cursor: str | None
