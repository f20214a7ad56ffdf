from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from app.bank.rules import CALLBACK_STATUSES, InstructionStatus
from app.inputs import Moment
from app.states import values

# The allowed values as a `Literal` built from the enum: the OpenAPI lists them inline and a
# wrong one is a 422 `literal_error`, as for every other enumerated field.
if TYPE_CHECKING:
    CallbackStatus = InstructionStatus
    InstructionStatusValue = InstructionStatus
else:
    CallbackStatus = Literal[tuple(s.value for s in CALLBACK_STATUSES)]
    InstructionStatusValue = Literal[values(InstructionStatus)]

AmountText = Annotated[StrictStr, Field(pattern=r"^(0|[1-9][0-9]*)\.[0-9]{2}$")]


class Receipt(BaseModel):
    model_config = ConfigDict(extra="ignore")
    receipt_no: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    bank_serial: StrictStr | None = None
    paid_at: Moment | None = None
    payer_account: StrictStr | None = None
    payee_account: StrictStr | None = None
    amount: AmountText | None = None


class Failure(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: StrictStr | None = None
    reason: Annotated[StrictStr, Field(max_length=200)]


class CallbackIn(BaseModel):
    """The bank's result callback; amounts are strings (a JSON number is refused)."""

    model_config = ConfigDict(extra="ignore")
    event_id: Annotated[StrictStr, Field(min_length=1, max_length=80)]
    instruction_id: Annotated[StrictStr, Field(pattern=r"^[A-Z0-9-]{1,30}$")]
    status: CallbackStatus
    amount: AmountText
    payee_account: StrictStr
    receipt: Receipt | None = None
    failure: Failure | None = None
