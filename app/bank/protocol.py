"""What the fund needs from a bank (API.md "Bank protocol"): the `BankGateway` protocol and its
answers. The HTTP client (`app/bank/gateway.py`) and the simulator's in-process side
(`app/bank/simgateway.py`) implement it; the send loop (`app/bank/sending.py`) and the
statement fetch use nothing else."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from app.bank import signing


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


# --- the bank's answers, read the same by every gateway -------------------------------------


def instruction_body(instruction: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a payment instruction."""
    return json.dumps(instruction, ensure_ascii=False, separators=(",", ":")).encode()


def request_headers(
    secret: str, bank_id: str, message_id: str, now: datetime, body: bytes
) -> dict[str, str]:
    headers = signing.headers(secret, message_id, now, body)
    headers["X-Client-Id"] = bank_id
    return headers


def payment_headers(
    secret: str, bank_id: str, instruction_id: str, now: datetime, body: bytes
) -> dict[str, str]:
    """POST /payments: signed, idempotent on the instruction id."""
    return {
        **request_headers(secret, bank_id, instruction_id, now, body),
        "Idempotency-Key": instruction_id,
        "content-type": "application/json",
    }


def send_answer(status_code: int, text: str) -> SendResult:
    """What the answer to POST /payments means (the request reached the bank)."""
    if status_code in (200, 202):
        try:
            status = json.loads(text).get("status")
        except ValueError:
            return SendResult(SendOutcome.UNKNOWN, detail="unreadable answer")
        return SendResult(SendOutcome.ACCEPTED, status=status if isinstance(status, str) else None)
    if status_code == 409 or status_code >= 500:
        return SendResult(SendOutcome.UNKNOWN, detail=f"bank answered {status_code}")
    return SendResult(SendOutcome.REFUSED, detail=f"bank answered {status_code}: {text[:200]}")


def status_answer(status_code: int, text: str) -> StatusResult:
    """What the answer to GET /payments/{id} means; ConnectionError when it tells nothing."""
    if status_code == 404:
        return StatusResult(found=False)
    if status_code != 200:
        raise ConnectionError(f"status query answered {status_code}")
    body = json.loads(text)
    return StatusResult(found=True, status=body.get("status"), body=body)


def statement_answer(status_code: int, text: str) -> StatementResult:
    """What the answer to GET /statements/{account}/{day} means (docs/bank-statements.md)."""
    if status_code == 404:
        return StatementResult(StatementOutcome.ABSENT)
    if status_code == 409:
        return StatementResult(StatementOutcome.NOT_READY)
    if status_code != 200:
        raise ConnectionError(f"statement request answered {status_code}")
    try:
        body = json.loads(text)
    except ValueError as error:
        raise ConnectionError("unreadable statement") from error
    return StatementResult(StatementOutcome.FOUND, body)
