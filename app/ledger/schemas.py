from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.money import YuanOut


class AccountOut(BaseModel):
    code: str
    name: str
    fixmedins_code: str | None
    balance: YuanOut  # in the account's normal direction


class PostingOut(BaseModel):
    account: str
    side: str
    amount: YuanOut


class EntryOut(BaseModel):
    id: int
    kind: str
    idempotency_key: str
    business_ref: str
    region_code: str
    insutype: str
    fixmedins_code: str | None
    period: str | None
    effective_at: datetime
    recorded_at: datetime
    reverses_entry_id: int | None
    memo: str
    entry_hash: str
    postings: list[PostingOut]


class TrialBalanceAccount(BaseModel):
    code: str
    balance: YuanOut


class TrialBalanceOut(BaseModel):
    balanced: bool
    debits: YuanOut
    credits: YuanOut
    as_of: datetime | None
    accounts: list[TrialBalanceAccount]


class MovementOut(BaseModel):
    position: int  # 1-based in the range's order (effective time, entry, posting)
    entry_id: int
    effective_at: datetime
    business_date: date  # the Shanghai date of effective_at
    kind: str
    business_ref: str
    period: str | None
    memo: str
    reverses_entry_id: int | None
    side: str
    debit: YuanOut
    credit: YuanOut
    balance: YuanOut  # after this movement, in the account's normal direction
    instruction_id: str | None
    receipt_no: str | None


class PayeeVersionOut(BaseModel):
    """A change of the institution's payee that took effect in the range (收款账户变更)."""

    id: int
    decided_at: datetime
    requested_by: str
    decided_by: str
    old: dict[str, str]
    new: dict[str, str]


class AccountStatementOut(BaseModel):
    """往来对账单: opening + Σ movements (turned to the normal side) = closing."""

    account: str
    name: str
    fixmedins_code: str | None
    normal_side: str
    first: date = Field(serialization_alias="from")
    last: date = Field(serialization_alias="to")
    opening_balance: YuanOut
    closing_balance: YuanOut
    debits: YuanOut
    credits: YuanOut
    movements_count: int
    items: list[MovementOut]
    next_cursor: str | None = None
    # the institution's payee changes approved within the range (an institution's account)
    payee_changes: list[PayeeVersionOut] = []
