"""Both sides of the `BankGateway` protocol (app/bank/protocol.py) read the bank the same way:
the HTTP gateway against the simulator on a real server, and the simulator's in-process side
(app/bank/simgateway.py) against a simulator of its own, walked through the same requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.bank.gateway import HttpBankGateway
from app.bank.protocol import BankGateway, SendOutcome, StatementOutcome
from app.bank.simgateway import SimulatorGateway
from app.bank.simulator import BankSimulator
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET
from tests.support.bank import FUND_ACCOUNT, payment_request, simulator

START = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Friday 10:00 Shanghai
OTHER_SECRET = "whsec_" + "b3RoZXItc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmctLQ=="


def _payment(instruction_id: str, amount: str) -> dict[str, str]:
    return payment_request(instruction_id, amount, requested_date="2026-03-06")


def _walk(gateway: BankGateway, stranger: BankGateway, clock: SimulatedClock) -> list[Any]:
    """The same requests, whatever the gateway: what each answer reads as."""
    seen: list[Any] = [
        gateway.send(_payment("D260306-6401310-H001", "100.00")),
        gateway.send(_payment("D260306-6401310-H001", "100.00")),  # the same again
        gateway.send(_payment("D260306-6401310-H001", "999.00")),  # another body: 409
        stranger.send(_payment("D260306-6401310-H002", "1.00")),  # not signed by us: 401
        gateway.query("D260306-6401310-H009"),  # never sent
        gateway.query("D260306-6401310-H001"),
    ]
    clock.set(START + timedelta(minutes=5))
    seen += [
        gateway.query("D260306-6401310-H001"),
        gateway.statement(FUND_ACCOUNT, "2026-03-06"),  # the day is not over
        gateway.statement(FUND_ACCOUNT, "2026-03-07"),  # Saturday: none
    ]
    clock.set(START + timedelta(days=1))
    seen.append(gateway.statement(FUND_ACCOUNT, "2026-03-06"))
    return seen


def _check(seen: list[Any]) -> None:
    sent, again, other_body, stranger, unknown, waiting, paid, early, weekend, statement = seen
    assert (sent.outcome, sent.status) == (SendOutcome.ACCEPTED, "ACCEPTED")
    assert (again.outcome, again.status) == (SendOutcome.ACCEPTED, "ACCEPTED")
    assert (other_body.outcome, other_body.detail) == (SendOutcome.UNKNOWN, "bank answered 409")
    assert stranger.outcome == SendOutcome.REFUSED and stranger.detail.startswith(
        "bank answered 401"
    )
    assert not unknown.found
    assert waiting.found and waiting.status == "ACCEPTED"
    assert paid.status == "SUCCESS" and paid.body["receipt"]["amount"] == "100.00"
    assert early.outcome == StatementOutcome.NOT_READY
    assert weekend.outcome == StatementOutcome.ABSENT
    assert statement.outcome == StatementOutcome.FOUND
    assert [e["amount"] for e in statement.body["entries"]] == ["100.00"]


def test_the_http_and_the_in_process_gateway_read_the_bank_alike() -> None:
    http_clock = SimulatedClock(START)
    with simulator(http_clock) as (_sim, url):
        http = HttpBankGateway(url, secret=DEV_BANK_SECRET, bank_id="FUNDBANK", clock=http_clock)
        stranger = HttpBankGateway(url, secret=OTHER_SECRET, bank_id="FUNDBANK", clock=http_clock)
        try:
            over_http = _walk(http, stranger, http_clock)
        finally:
            http.close()
            stranger.close()
    local_clock = SimulatedClock(START)
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=local_clock)
    in_process = _walk(
        SimulatorGateway(sim, secret=DEV_BANK_SECRET),
        SimulatorGateway(sim, secret=OTHER_SECRET),
        local_clock,
    )
    _check(over_http)
    _check(in_process)
    assert in_process == over_http


def test_a_stall_past_the_read_timeout_reads_as_maybe_sent() -> None:
    clock = SimulatedClock(START)
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=clock)
    gateway = SimulatorGateway(sim, secret=DEV_BANK_SECRET, read_timeout_s=1.0)
    sim.stall_next_s = 1.0
    result = gateway.send(_payment("D260306-6401310-H001", "100.00"))
    assert result.outcome == SendOutcome.UNKNOWN
    assert gateway.query("D260306-6401310-H001").status == "ACCEPTED"  # the bank took it
