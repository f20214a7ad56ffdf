"""The simulator's books and end-of-day statements over HTTP (docs/bank-statements.md): a
payment is booked at its result, a return when it happens, a transfer at once; the
statement of a working day covers the days since the previous one, is served once the day
is over, signed requests only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from app.bank import signing
from app.bank.gateway import HttpBankGateway
from app.bank.simdata import SimOptions
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET
from tests.support.bank import payment_request as _payment
from tests.support.bank import simulator

ACCOUNT = "95588640100310"


def test_statements_from_what_the_bank_booked() -> None:
    # Friday 2026-03-06 10:00 Shanghai
    clock = SimulatedClock(datetime(2026, 3, 6, 2, 0, tzinfo=UTC))
    rules = [{"fixmedins_code": "H002", "status": "RETURNED", "return_after": 1}]
    with simulator(clock, SimOptions(rules=rules)) as (sim, url):
        gateway = HttpBankGateway(url, secret=DEV_BANK_SECRET, bank_id="FUNDBANK", clock=clock)
        try:
            sim.transfer(
                account=ACCOUNT, direction="CREDIT", amount="100000.00", business_ref="APP-1"
            )
            again = sim.transfer(
                account=ACCOUNT, direction="CREDIT", amount="100000.00", business_ref="APP-1"
            )
            assert gateway.send(_payment("D260306-6401310-H001", "8000.00")).outcome == "accepted"
            assert gateway.send(_payment("D260306-6401310-H002", "3000.00")).outcome == "accepted"
            assert gateway.statement(ACCOUNT, "2026-03-06").outcome == "not_ready"

            clock.set(datetime(2026, 3, 6, 16, 0, tzinfo=UTC))  # Saturday 00:00 Shanghai
            friday = gateway.statement(ACCOUNT, "2026-03-06")
            assert friday.outcome == "found" and friday.body is not None
            assert friday.body["opening_balance"] == "0.00"
            assert friday.body["closing_balance"] == "89000.00"  # 100,000 − 8,000 − 3,000
            assert [
                (e["direction"], e["amount"], e["business_ref"]) for e in friday.body["entries"]
            ] == [
                ("CREDIT", "100000.00", "APP-1"),
                ("DEBIT", "8000.00", "D260306-6401310-H001"),
                ("DEBIT", "3000.00", "D260306-6401310-H002"),
            ]
            assert friday.body["entries"][0]["bank_serial"] == again.bank_serial
            receipt = sim.payments["D260306-6401310-H001"].receipt
            assert receipt is not None
            assert friday.body["entries"][1]["bank_serial"] == receipt["bank_serial"]
            assert gateway.statement(ACCOUNT, "2026-03-07").outcome == "absent"  # Saturday

            # the return is booked on Monday at 10:00; Monday's statement covers the weekend
            clock.set(datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
            monday = gateway.statement(ACCOUNT, "2026-03-09")
            assert monday.body is not None
            assert monday.body["from_date"] == "2026-03-07"
            assert monday.body["opening_balance"] == "89000.00"
            assert monday.body["closing_balance"] == "92000.00"
            assert [(e["direction"], e["business_ref"]) for e in monday.body["entries"]] == [
                ("CREDIT", "D260306-6401310-H002")
            ]
            other = gateway.statement("95588640100390", "2026-03-09")
            assert other.body is not None and other.body["entries"] == []
        finally:
            gateway.close()

        # unsigned requests are refused
        assert httpx.get(f"{url}/statements/{ACCOUNT}/2026-03-09").status_code == 401
        body = json.dumps({"account": ACCOUNT}).encode()
        headers = signing.headers(DEV_BANK_SECRET, "t-1", clock.now() - timedelta(hours=1), body)
        assert httpx.post(f"{url}/transfers", content=body, headers=headers).status_code == 401
        headers = signing.headers(DEV_BANK_SECRET, "t-2", clock.now(), body)
        assert httpx.post(f"{url}/transfers", content=body, headers=headers).status_code == 400
