"""The bank simulator's fault modes (SimFaults), each on its own: what the fund sees (500,
a late answer, a failed status query, callbacks twice, late, shuffled) and what the bank did
(a 500 before taking a payment leaves nothing, after taking it the payment stands)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.bank import signing
from app.bank.simdata import SimFaults, SimOptions
from app.bank.simulator import BankSimulator
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET

NOW = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)


def _sim(faults: SimFaults) -> tuple[BankSimulator, TestClient, SimulatedClock]:
    clock = SimulatedClock(NOW)
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=clock, options=SimOptions(faults=faults))
    return sim, TestClient(sim.app), clock


def _pay(client: TestClient, clock: SimulatedClock, number: int) -> int:
    instruction_id = f"D260302-6401310-H{number:03d}"
    body = json.dumps(
        {
            "instruction_id": instruction_id,
            "amount": "10.00",
            "payee_account": "6222",
            "callback_url": "http://fund/api/v1/bank/receipts",
        }
    ).encode()
    headers = signing.headers(DEV_BANK_SECRET, instruction_id, clock.now(), body)
    headers["Idempotency-Key"] = instruction_id
    return client.post("/payments", content=body, headers=headers).status_code


def test_500s_come_before_and_after_taking_the_payment() -> None:
    sim, client, clock = _sim(SimFaults(seed=3, error_rate=1.0))
    answers = [_pay(client, clock, n) for n in range(40)]
    assert answers == [500] * 40
    # some were taken (the fund must ask before sending again), some never reached the bank
    assert 0 < len(sim.payments) < 40, len(sim.payments)
    assert sim.faults_seen == {"error": 40}


def test_timeouts_and_slow_answers_take_the_payment() -> None:
    sim, client, clock = _sim(SimFaults(seed=1, timeout_rate=0.5, timeout_s=0.01, slow_s=0.01))
    assert [_pay(client, clock, n) for n in range(10)] == [202] * 10
    assert len(sim.payments) == 10 and sim.faults_seen["timeout"] > 0


def test_status_queries_fail() -> None:
    _, client, clock = _sim(SimFaults(query_error_rate=1.0))
    assert _pay(client, clock, 1) == 202
    headers = signing.headers(DEV_BANK_SECRET, "query", clock.now(), b"")
    assert client.get("/payments/D260302-6401310-H001", headers=headers).status_code == 500


def test_callbacks_twice_late_and_shuffled() -> None:
    sim, client, clock = _sim(
        SimFaults(seed=5, duplicate_rate=1.0, delay_hours_max=6, reorder=True)
    )
    for number in range(6):
        assert _pay(client, clock, number) == 202
    assert len(sim.deliveries) == 12  # every callback twice
    assert max(d.due for d in sim.deliveries) > NOW + timedelta(hours=1)  # some hours late
    clock.advance(timedelta(hours=7))
    delivered: list[str] = []
    sim.deliver_due(
        lambda url, headers, body: delivered.append(json.loads(body)["event_id"]) or 200
    )
    assert sorted(delivered) == sorted(d["event_id"] for d in sim.delivered)
    assert len(delivered) == 12 and len(set(delivered)) == 6
    assert delivered != sorted(delivered)  # not in the order they were due
    assert sim.faults_seen["reorder"] == 1


def test_faults_parse_from_the_command_line() -> None:
    faults = SimFaults.parse("seed=7, error_rate=0.1,reorder=true,delay_hours_max=2")
    assert faults == SimFaults(seed=7, error_rate=0.1, reorder=True, delay_hours_max=2.0)
    assert SimFaults.parse("") == SimFaults()
    with pytest.raises(ValueError, match="no bank fault 'explode'"):
        SimFaults.parse("explode=1")
