"""The bank gateway: HTTP client of the bank protocol (API.md "Bank protocol")."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from app.bank import signing
from app.bank.protocol import (
    SendOutcome,
    SendResult,
    StatementOutcome,
    StatementResult,
    StatusResult,
)
from app.clock import Clock

log = logging.getLogger("fundledger.bank")

CONNECT_RETRIES_MAX = 3
POOL_CONNECTIONS_MAX = 10


class HttpBankGateway:
    """The `BankGateway` over HTTP: signed requests with explicit timeouts and connection
    limits (STYLE.md 6)."""

    def __init__(
        self,
        base_url: str,
        *,
        secret: str,
        bank_id: str,
        clock: Clock,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.secret = secret
        self.bank_id = bank_id
        self.clock = clock
        self.client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=POOL_CONNECTIONS_MAX),
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def _signed(self, message_id: str, body: bytes) -> dict[str, str]:
        headers = signing.headers(self.secret, message_id, self.clock.now(), body)
        headers["X-Client-Id"] = self.bank_id
        return headers

    def send(self, instruction: dict[str, Any]) -> SendResult:
        body = json.dumps(instruction, ensure_ascii=False, separators=(",", ":")).encode()
        instruction_id = instruction["instruction_id"]
        headers = {
            **self._signed(instruction_id, body),
            "Idempotency-Key": instruction_id,
            "content-type": "application/json",
        }
        try:
            response = self.client.post("/payments", content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            return SendResult(
                SendOutcome.NOT_SENT, detail=f"connection failed before sending: {error}"
            )
        except httpx.HTTPError as error:  # read/write timeout, protocol error: maybe sent
            return SendResult(
                SendOutcome.UNKNOWN, detail=f"no readable answer: {type(error).__name__}"
            )
        if response.status_code in (200, 202):
            try:
                status = response.json().get("status")
            except ValueError:
                return SendResult(SendOutcome.UNKNOWN, detail="unreadable answer")
            return SendResult(
                SendOutcome.ACCEPTED, status=status if isinstance(status, str) else None
            )
        if response.status_code == 409 or response.status_code >= 500:
            return SendResult(SendOutcome.UNKNOWN, detail=f"bank answered {response.status_code}")
        return SendResult(
            SendOutcome.REFUSED,
            detail=f"bank answered {response.status_code}: {response.text[:200]}",
        )

    def query(self, instruction_id: str) -> StatusResult:
        headers = self._signed(f"query-{instruction_id}", b"")
        try:
            response = self.client.get(f"/payments/{instruction_id}", headers=headers)
        except httpx.HTTPError as error:
            raise ConnectionError(f"status query failed: {error}") from error
        if response.status_code == 404:
            return StatusResult(found=False)
        if response.status_code != 200:
            raise ConnectionError(f"status query answered {response.status_code}")
        body = response.json()
        return StatusResult(found=True, status=body.get("status"), body=body)

    def statement(self, account: str, statement_date: str) -> StatementResult:
        """The end-of-day statement of the account (docs/bank-statements.md)."""
        headers = self._signed(f"statement-{account}-{statement_date}", b"")
        try:
            response = self.client.get(f"/statements/{account}/{statement_date}", headers=headers)
        except httpx.HTTPError as error:
            raise ConnectionError(f"statement request failed: {error}") from error
        if response.status_code == 404:
            return StatementResult(StatementOutcome.ABSENT)
        if response.status_code == 409:
            return StatementResult(StatementOutcome.NOT_READY)
        if response.status_code != 200:
            raise ConnectionError(f"statement request answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise ConnectionError("unreadable statement") from error
        return StatementResult(StatementOutcome.FOUND, body)
