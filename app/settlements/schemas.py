from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.inputs import Moment
from app.money import Yuan, YuanNonNegative, YuanOut
from app.settlements.rules import (
    DayReconciliation,
    ReconciliationStatus,
    SettlementStatus,
    UploadOutcome,
)
from app.states import values

Code30 = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,30}$")]
SETTLEMENT_STATUSES = values(SettlementStatus)


class SettlementIn(BaseModel):
    """A settlement record as the national interface 2304 names its fields (API.md)."""

    model_config = ConfigDict(extra="forbid")

    fixmedins_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$", examples=["H001"])]
    setl_id: Code30
    mdtrt_id: Code30 | None = None
    psn_no: Annotated[str, Field(min_length=1, max_length=30)]
    insutype: Literal["310", "390"]
    med_type: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,6}$", examples=["21"])]
    insuplc_admdvs: Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["640104"])]
    setl_time: Moment
    medfee_sumamt: YuanNonNegative
    hifp_pay: YuanNonNegative
    hifob_pay: YuanNonNegative = 0
    fund_pay_sumamt: YuanNonNegative | None = None
    psn_cash_pay: YuanNonNegative | None = None
    acct_pay: YuanNonNegative | None = None
    clr_type: Annotated[str, Field(max_length=6)] | None = None
    clr_way: Annotated[str, Field(max_length=6)] | None = None
    # One-stop settlement (一站式结算, SPEC-ASSISTANCE A3): what every other payer covered.
    inscp_scp_amt: YuanNonNegative = Field(default=0, description="符合政策范围金额")
    hifmi_pay: YuanNonNegative = Field(default=0, description="居民大病保险资金支出")
    cvlserv_pay: YuanNonNegative = Field(default=0, description="公务员医疗补助资金支出")
    hifes_pay: YuanNonNegative = Field(default=0, description="企业补充医疗保险基金支出")
    maf_pay: YuanNonNegative = Field(
        default=0, description="医疗救助基金支出: needs a recipient holding a category that day"
    )
    oth_pay: YuanNonNegative = Field(default=0, description="其他支出 (e.g. 扶贫保险)")

    def record(self) -> dict[str, Any]:
        """Plain values (fen integers, UTC instant) for storage and hashing."""
        values = dict(self.__dict__)
        values["setl_time"] = self.setl_time.astimezone(UTC)
        return values


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[Any], Field(max_length=5000)]


class ItemError(BaseModel):
    field: str
    rule: str
    message: str


class BulkItemResult(BaseModel):
    index: int
    setl_id: str | None
    outcome: UploadOutcome
    errors: list[ItemError] = []


class BulkOut(BaseModel):
    created: int
    duplicate: int
    conflict: int
    invalid: int
    results: list[BulkItemResult]


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class RevocationOut(BaseModel):
    reason: str
    revoked_at: datetime
    revoked_date: date
    period: str


class SettlementOut(BaseModel):
    fixmedins_code: str
    setl_id: str
    mdtrt_id: str | None
    insutype: str
    med_type: str
    insuplc_admdvs: str
    setl_time: datetime
    setl_date: date
    period: str
    batch_date: date = Field(description="business date of the daily batch that takes it")
    medfee_sumamt: YuanOut
    hifp_pay: YuanOut
    hifob_pay: YuanOut
    fund_amount: YuanOut
    inscp_scp_amt: YuanOut
    hifmi_pay: YuanOut
    cvlserv_pay: YuanOut
    hifes_pay: YuanOut
    maf_pay: YuanOut
    oth_pay: YuanOut
    status: SettlementStatus
    revocation: RevocationOut | None = None
    list_no: str | None = None


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    list_no: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]


class ReconciliationIn(BaseModel):
    """The hospital's totals of one day (national 3201), optionally with its settlement ids."""

    model_config = ConfigDict(extra="forbid")
    fixmedins_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,12}$")]
    insutype: Literal["310", "390"]
    setl_date: date
    count: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    fund_amount: Yuan
    setl_ids: Annotated[list[Code30], Field(max_length=100_000)] | None = None


class Difference(BaseModel):
    setl_id: str
    issue: Literal["not_held", "not_sent"]


class ReconciliationOut(BaseModel):
    fixmedins_code: str
    insutype: str
    setl_date: date
    status: ReconciliationStatus
    count: int
    fund_amount: YuanOut
    held_count: int
    held_fund_amount: YuanOut
    differences: list[Difference]


class DayStatusOut(BaseModel):
    setl_date: date
    held_count: int
    held_fund_amount: YuanOut
    status: DayReconciliation
