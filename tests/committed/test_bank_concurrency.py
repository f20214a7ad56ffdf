"""20 identical callbacks delivered at once: exactly one posting (real server, real commits)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date

import httpx
from sqlalchemy import func, select, text

from app.auth.principal import Principal
from app.bank import signing
from app.bank.simserver import serve_in_thread
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET, Settings
from app.daily import service as daily
from app.db import make_sessionmaker, transaction
from app.institutions import service as institutions
from app.ledger.models import JournalEntry
from app.main import create_app
from tests.support import builders
from tests.support.daily import at, generate, settle
from tests.support.databases import engine_for_threads, fresh_database

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)
DELIVERIES = 20


def test_twenty_identical_callbacks_post_once() -> None:
    with fresh_database() as url:
        engine = engine_for_threads(url, DELIVERIES)
        factory = make_sessionmaker(engine)
        clock = SimulatedClock(at(MON, 14, 31).astimezone(UTC))
        with transaction(factory) as session:
            builders.institution(session, "H001")
            settle(session, "H001", "S1", 1_000_000, FRI)
            batch = generate(session, FRI)
            daily.approve(
                session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(MON, 9)
            )
            fund = institutions.get_fund_ledger(session, "640100", "310")
            [instruction_id] = daily.submit_due(session, fund, today=MON, now=at(MON, 14, 30))
            payee = session.execute(
                text("SELECT payee_account FROM payment_instruction")
            ).scalar_one()
        app = create_app(
            Settings(environment="test", database_url=url), session_factory=factory, clock=clock
        )
        base, stop = serve_in_thread(app)
        try:
            event = {
                "event_id": "EVT-SAME",
                "instruction_id": instruction_id,
                "status": "SUCCESS",
                "amount": "6000.00",
                "payee_account": payee,
                "failure": None,
                "receipt": {"receipt_no": "HD1", "amount": "6000.00"},
            }
            body = json.dumps(event).encode()
            headers = {
                **signing.headers(DEV_BANK_SECRET, "EVT-SAME", clock.now(), body),
                "content-type": "application/json",
            }
            barrier = threading.Barrier(DELIVERIES)
            statuses: list[int] = []

            def deliver() -> None:
                barrier.wait()
                with httpx.Client(timeout=60) as client:
                    statuses.append(
                        client.post(
                            f"{base}/api/v1/bank/receipts", content=body, headers=headers
                        ).status_code
                    )

            threads = [threading.Thread(target=deliver) for _ in range(DELIVERIES)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            stop()
        assert statuses == [200] * DELIVERIES
        with transaction(factory) as session:
            successes = session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.kind == "instruction_success")
            )
            assert successes == 1
            assert (
                session.execute(text("SELECT status FROM payment_instruction")).scalar_one()
                == "SUCCESS"
            )
        engine.dispose()
