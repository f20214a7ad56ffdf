"""What the fund needs from a bank (API.md "Bank protocol"): the `BankGateway` protocol and its
answers. The HTTP client (`app/bank/gateway.py`) and the simulator's in-process side
(`app/bank/simgateway.py`) implement it; the send loop (`app/bank/sending.py`) and the
statement fetch use nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class SendOutcome(StrEnum):
    """`ACCEPTED`: the bank took it (202, or its earlier answer); `UNKNOWN`: money may have
    moved (timeout after sending, 5xx, 409, unreadable); `NOT_SENT`: the connection failed
    before sending (retry with the same id); `REFUSED`: the bank refused it (4xx) and moved
    nothing."""

    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    NOT_SENT = "not_sent"
    REFUSED = "refused"


class StatementOutcome(StrEnum):
    """`FOUND` with the statement; `ABSENT` (no statement that day); `NOT_READY` (the day is
    not closed yet)."""

    FOUND = "found"
    ABSENT = "absent"
    NOT_READY = "not_ready"


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    status: str | None = None  # the bank's status when it told one
    detail: str = ""


@dataclass(frozen=True)
class StatusResult:
    found: bool
    status: str | None = None
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class StatementResult:
    outcome: StatementOutcome
    body: dict[str, Any] | None = None


class BankGateway(Protocol):
    def send(self, instruction: dict[str, Any]) -> SendResult: ...

    def query(self, instruction_id: str) -> StatusResult:
        """The bank's status of an instruction; raises ConnectionError when it cannot tell."""
        ...

    def statement(self, account: str, statement_date: str) -> StatementResult:
        """The end-of-day statement; raises ConnectionError when it cannot tell."""
        ...
