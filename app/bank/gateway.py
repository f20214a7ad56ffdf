"""The bank gateway: HTTP client of the bank protocol (API.md "Bank protocol")."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.bank.protocol import (
    SendOutcome,
    SendResult,
    StatementResult,
    StatusResult,
    instruction_body,
    payment_headers,
    request_headers,
    send_answer,
    statement_answer,
    status_answer,
)
from app.clock import Clock
from app.config import Settings

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

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> HttpBankGateway:
        """The gateway of a running service: the bank's address, secret, id and timeouts
        from the settings."""
        return cls(
            settings.bank_url,
            secret=settings.bank_secret,
            bank_id=settings.bank_id,
            clock=clock,
            connect_timeout_s=settings.bank_connect_timeout_s,
            read_timeout_s=settings.bank_read_timeout_s,
        )

    def close(self) -> None:
        self.client.close()

    def _signed(self, message_id: str, body: bytes) -> dict[str, str]:
        return request_headers(self.secret, self.bank_id, message_id, self.clock.now(), body)

    def send(self, instruction: dict[str, Any]) -> SendResult:
        body = instruction_body(instruction)
        headers = payment_headers(
            self.secret, self.bank_id, instruction["instruction_id"], self.clock.now(), body
        )
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
        return send_answer(response.status_code, response.text)

    def query(self, instruction_id: str) -> StatusResult:
        headers = self._signed(f"query-{instruction_id}", b"")
        try:
            response = self.client.get(f"/payments/{instruction_id}", headers=headers)
        except httpx.HTTPError as error:
            raise ConnectionError(f"status query failed: {error}") from error
        return status_answer(response.status_code, response.text)

    def statement(self, account: str, statement_date: str) -> StatementResult:
        """The end-of-day statement of the account (docs/bank-statements.md)."""
        headers = self._signed(f"statement-{account}-{statement_date}", b"")
        try:
            response = self.client.get(f"/statements/{account}/{statement_date}", headers=headers)
        except httpx.HTTPError as error:
            raise ConnectionError(f"statement request failed: {error}") from error
        return statement_answer(response.status_code, response.text)
