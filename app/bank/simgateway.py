"""The simulator's in-process side: a `BankGateway` that hands each signed request straight to
a `BankSimulator` (no server, no socket) and reads its answers as the HTTP gateway reads them.
For tests and tools that want the bank's behaviour without a port; a stall at least as long as
the read timeout reads as the HTTP client's timeout (the bank may have taken the payment)."""

from __future__ import annotations

from typing import Any

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
from app.bank.simulator import BankSimulator


class SimulatorGateway:
    def __init__(
        self,
        sim: BankSimulator,
        *,
        secret: str,
        bank_id: str = "FUNDBANK",
        read_timeout_s: float = 10.0,
    ) -> None:
        self.sim = sim
        self.secret = secret
        self.bank_id = bank_id
        self.read_timeout_s = read_timeout_s

    def _signed(self, message_id: str, body: bytes) -> dict[str, str]:
        headers = request_headers(self.secret, self.bank_id, message_id, self.sim.clock.now(), body)
        return _as_read(headers)

    def send(self, instruction: dict[str, Any]) -> SendResult:
        body = instruction_body(instruction)
        headers = payment_headers(
            self.secret, self.bank_id, instruction["instruction_id"], self.sim.clock.now(), body
        )
        headers = _as_read(headers)
        response, stall = self.sim.payment_answer(headers, body)
        if stall >= self.read_timeout_s:
            return SendResult(SendOutcome.UNKNOWN, detail="no readable answer: ReadTimeout")
        return send_answer(response.status_code, bytes(response.body).decode())

    def query(self, instruction_id: str) -> StatusResult:
        response = self.sim.status_answer(
            self._signed(f"query-{instruction_id}", b""), instruction_id
        )
        return status_answer(response.status_code, bytes(response.body).decode())

    def statement(self, account: str, statement_date: str) -> StatementResult:
        headers = self._signed(f"statement-{account}-{statement_date}", b"")
        response = self.sim.statement_answer(headers, account, statement_date)
        return statement_answer(response.status_code, bytes(response.body).decode())


def _as_read(headers: dict[str, str]) -> dict[str, str]:
    """Header names as a server reads them (lower case)."""
    return {name.lower(): value for name, value in headers.items()}
