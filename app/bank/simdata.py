"""The bank simulator's state and options: a payment as the bank holds it, a booking on an
account, a callback waiting for delivery, and the seeded options and faults of a run."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass
class SimPayment:
    instruction_id: str
    request: dict[str, Any]
    body_hash: str
    received_at: datetime
    final_status: str  # SUCCESS | FAILED (what the bank decided)
    result_at: datetime
    receipt: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    return_at: datetime | None = None
    return_reason: str | None = None

    def status_at(self, now: datetime) -> str:
        if self.return_at is not None and now >= self.return_at:
            return "RETURNED"
        if now >= self.result_at:
            return self.final_status
        return "ACCEPTED"


@dataclass
class Booking:
    """One movement on an account as the bank booked it (direction in the bank's terms:
    DEBIT money out, CREDIT money in)."""

    account: str
    booked_at: datetime
    direction: str
    amount_fen: int
    counterparty_account: str
    counterparty_name: str
    business_ref: str
    bank_serial: str
    summary: str


@dataclass(order=True)
class Delivery:
    due: datetime
    sequence: int
    url: str = field(compare=False)
    event: dict[str, Any] = field(compare=False)


@dataclass(frozen=True)
class SimFaults:
    """A seeded random mix of what a real bank does on a bad day (docs/rules.md "Bank
    simulator faults"). Rates are shares of requests or callbacks, 0 to 1. None of them
    changes what the bank decides about a payment: only how and when the fund hears it."""

    seed: int = 0
    timeout_rate: float = 0.0  # a payment is taken, its answer comes after timeout_s
    timeout_s: float = 1.0  # longer than the client waits (its read timeout)
    error_rate: float = 0.0  # 500; half of them after taking the payment, half before
    slow_rate: float = 0.0  # the answer comes after slow_s (shorter than the client waits)
    slow_s: float = 0.2
    query_error_rate: float = 0.0  # a status query answers 500
    duplicate_rate: float = 0.0  # a callback is delivered twice (each copy its own delay)
    reorder: bool = False  # callbacks due together are delivered in a shuffled order
    delay_hours_max: float = 0.0  # a callback comes up to this many hours late (sim clock)

    @classmethod
    def parse(cls, text: str) -> SimFaults:
        """`seed=7,error_rate=0.1,reorder=true,...` (`fundledger bank-sim --faults`)."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in known:
                raise ValueError(f"no bank fault {name!r} (known: {', '.join(known)})")
            kind = known[name]
            if kind == "bool":
                values[name] = value.strip().lower() in ("1", "true", "yes")
            elif kind == "int":
                values[name] = int(value)
            else:
                values[name] = float(value)
        return cls(**values)


@dataclass
class SimOptions:
    rules: list[dict[str, Any]] = field(default_factory=list)
    failure_rate: float = 0.0
    seed: int = 0
    delay_minutes: int = 1
    duplicate_deliveries: bool = False
    reverse_order: bool = False
    drop_callbacks: bool = False
    # The bank's account holders (户名校验): a payment to a listed account under another name
    # fails with the bank's reason. Accounts not listed are other banks' and pass.
    accounts: dict[str, str] = field(default_factory=dict)
    faults: SimFaults = field(default_factory=SimFaults)
