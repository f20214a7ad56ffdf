from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

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
