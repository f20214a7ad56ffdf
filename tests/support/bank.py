"""The bank simulator on a real uvicorn server, and a job context pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.bank.gateway import HttpBankGateway
from app.bank.simdata import SimOptions
from app.bank.simserver import serve_in_thread
from app.bank.simulator import BankSimulator
from app.clock import Clock
from app.config import DEV_BANK_SECRET, Settings
from app.jobcontext import JobContext

CALLBACK_URL = "http://testserver/api/v1/bank/receipts"
FUND_ACCOUNT = "95588640100310"


def payment_request(
    instruction_id: str, amount: str, requested_date: str = "2026-03-09"
) -> dict[str, str]:
    """A payment instruction as the fund sends it (API.md), from the fund's 640100/310 account."""
    return {
        "instruction_id": instruction_id,
        "payer_account": FUND_ACCOUNT,
        "payer_name": "医保基金支出户",
        "payee_account": "6222000000000001",
        "payee_name": "银川市第一人民医院",
        "payee_bank_code": "102871000011",
        "amount": amount,
        "currency": "CNY",
        "purpose": "医保基金日拨付 2026-03-06",
        "requested_date": requested_date,
        "callback_url": CALLBACK_URL,
    }


@contextmanager
def simulator(
    clock: Clock, options: SimOptions | None = None
) -> Iterator[tuple[BankSimulator, str]]:
    sim = BankSimulator(secret=DEV_BANK_SECRET, clock=clock, options=options)
    url, stop = serve_in_thread(sim.app)
    try:
        yield sim, url
    finally:
        stop()


def context(
    session_factory: sessionmaker[Session],
    clock: Clock,
    bank_url: str,
    *,
    read_timeout_s: float = 5.0,
) -> JobContext:
    settings = Settings(environment="test", database_url="sqlite://", callback_url=CALLBACK_URL)
    gateway = HttpBankGateway(
        bank_url,
        secret=DEV_BANK_SECRET,
        bank_id="FUNDBANK",
        clock=clock,
        connect_timeout_s=1.0,
        read_timeout_s=read_timeout_s,
    )
    return JobContext(
        session_factory=session_factory,
        engine=None,
        clock=clock,
        settings=settings,  # type: ignore[arg-type]
        gateway=gateway,
    )


def poster(client: TestClient) -> Any:
    """Deliver simulator callbacks through the service's real callback endpoint."""

    def post(url: str, headers: dict[str, str], body: bytes) -> int:
        return client.post(
            url.replace("http://testserver", ""), content=body, headers=headers
        ).status_code

    return post
