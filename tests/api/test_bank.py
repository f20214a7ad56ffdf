"""The bank path: outbox sending against the simulator, results by callback and by status
query, and every adversarial callback of issue 8 (status code, and nothing changed)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import standardwebhooks
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.bank import sending, signing
from app.bank.models import PaymentInstruction
from app.bank.simdata import SimOptions
from app.clock import SimulatedClock
from app.config import DEV_BANK_SECRET, Settings
from app.daily import service as daily
from app.institutions import service as institutions
from app.ledger import service as ledger
from app.ledger.models import JournalEntry
from app.ledger.rules import account_code
from app.main import create_app
from tests.support import builders
from tests.support.bank import CALLBACK_URL, context, poster, simulator
from tests.support.daily import at, generate, settle

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)
ID = "D260306-6401310-H001"


@pytest.fixture
def app(session_factory: sessionmaker[Session], clock: SimulatedClock) -> FastAPI:
    settings = Settings(environment="test", database_url="sqlite://", callback_url=CALLBACK_URL)
    return create_app(settings, session_factory=session_factory, clock=clock)


def _queue(session: Session, clock: SimulatedClock) -> None:
    """One daily line of 6,000.00 for H001 approved and handed to the outbox on Monday."""
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 1_000_000, FRI)
    batch = generate(session, FRI)
    from app.auth.principal import Principal

    daily.approve(session, batch.id, actor=Principal(None, "acc", "accountant"), now=at(MON, 9))
    clock.set(at(MON, 14, 30))
    fund = institutions.get_fund_ledger(session, "640100", "310")
    assert daily.submit_due(session, fund, today=MON, now=clock.now()) == [ID]
    session.commit()


def _instruction(session: Session) -> PaymentInstruction:
    session.expire_all()
    row = session.get(PaymentInstruction, ID)
    assert row is not None
    return row


def _balance(session: Session, name: str, code: str | None = None) -> int:
    return ledger.balance_or_zero(session, account_code(name, "640100", "310", code))


def _entries(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def test_callback_success_then_return(
    client: TestClient, session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    _queue(session, clock)
    options = SimOptions(
        rules=[
            {"fixmedins_code": "H001", "kind": "daily", "status": "RETURNED", "reason": "已销户"}
        ]
    )
    with simulator(clock, options) as (sim, url):
        ctx = context(session_factory, clock, url)
        assert sending.send_queued(ctx, [ID]) == {ID: "ACCEPTED"}
        assert _instruction(session).status == "ACCEPTED"
        clock.advance(timedelta(minutes=1))
        assert sim.deliver_due(poster(client)) == [(sim.delivered[0]["event_id"], 200)]
        paid = _instruction(session)
        assert paid.status == "SUCCESS" and paid.receipt_no.startswith("HD20260309")
        assert _balance(session, "bank") == -600_000
        assert _balance(session, "in_transit") == 0
        assert _balance(session, "payable", "H001") == 400_000
        clock.set(at(date(2026, 3, 10), 10))  # returned at 10:00 on the next working day
        sim.deliver_due(poster(client))
        assert _instruction(session).status == "RETURNED"
        assert _balance(session, "bank") == 0
        assert _balance(session, "payable", "H001") == 1_000_000  # owed again
        assert ledger.trial_balance(session).balanced


def test_failure_is_never_resent(
    client: TestClient, session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    _queue(session, clock)
    with simulator(
        clock,
        SimOptions(rules=[{"kind": "daily", "status": "FAILED", "reason": "收款账户状态异常"}]),
    ) as (sim, url):
        ctx = context(session_factory, clock, url)
        sending.send_queued(ctx, [ID])
        clock.advance(timedelta(minutes=1))
        sim.deliver_due(poster(client))
        failed = _instruction(session)
        assert failed.status == "FAILED" and failed.failure_reason == "收款账户状态异常"
        assert _balance(session, "payable", "H001") == 1_000_000
        assert _balance(session, "in_transit") == 0
        assert sending.send_queued(ctx, [ID]) == {ID: "FAILED"}
        assert sending.requery_due(ctx) == {}
        assert sim.requests_received == 1


def _callback(
    client: TestClient,
    clock: SimulatedClock,
    event: dict,
    *,
    secret: str = DEV_BANK_SECRET,
    offset_s: int = 0,
    raw: bytes | None = None,
    headers: dict | None = None,
):  # type: ignore[no-untyped-def]
    body = raw if raw is not None else json.dumps(event).encode()
    signed = signing.headers(
        secret, event.get("event_id", "EVT-X"), clock.now() + timedelta(seconds=offset_s), body
    )
    return client.post(
        "/api/v1/bank/receipts",
        content=body,
        headers=headers if headers is not None else {**signed, "content-type": "application/json"},
    )


def _success(event_id: str = "EVT-1", **changes: object) -> dict:
    event = {
        "event_id": event_id,
        "instruction_id": ID,
        "status": "SUCCESS",
        "amount": "6000.00",
        "payee_account": "6222072048048049",
        "failure": None,
        "receipt": {
            "receipt_no": "HD2026030900000001",
            "paid_at": "2026-03-09T14:31:00+08:00",
            "amount": "6000.00",
        },
    }
    event.update(changes)
    return event


@pytest.fixture
def queued(session: Session, clock: SimulatedClock) -> PaymentInstruction:
    _queue(session, clock)
    row = _instruction(session)
    row.payee_account = "6222072048048049"
    session.commit()
    return row


def _unchanged(session: Session, status: str, entries: int) -> None:
    assert _instruction(session).status == status
    assert _entries(session) == entries


def test_adversarial_callbacks(
    client: TestClient, session: Session, clock: SimulatedClock, queued: PaymentInstruction
) -> None:
    entries = _entries(session)
    cases = [
        (_callback(client, clock, _success(), headers={"content-type": "application/json"}), 401),
        (_callback(client, clock, _success(), secret="whsec_" + "Zm9yZ2Vk" * 4), 401),
        (_callback(client, clock, _success(), offset_s=-301), 401),
        (_callback(client, clock, _success(), offset_s=301), 401),
        (_callback(client, clock, _success(instruction_id="D260306-6401310-H999")), 404),
        (_callback(client, clock, _success("EVT-2", amount="6000.01")), 409),
        (_callback(client, clock, _success("EVT-3", payee_account="6222000000000999")), 409),
        # a return before any success, without the receipt that would prove the success
        (_callback(client, clock, _success("EVT-4", status="RETURNED", receipt=None)), 409),
        (
            _callback(
                client,
                clock,
                _success("EVT-5"),
                raw=json.dumps(_success("EVT-5")).replace('"6000.00"', "6000.00", 1).encode(),
            ),
            422,
        ),
        (
            _callback(
                client,
                clock,
                _success("EVT-6"),
                raw=json.dumps(_success("EVT-6"))
                .replace('"status"', '"status": "FAILED", "status"')
                .encode(),
            ),
            422,
        ),
        (
            _callback(
                client,
                clock,
                _success("EVT-7"),
                raw=b'{"event_id": "EVT-7", "pad": "' + b"x" * (65 * 1024) + b'"}',
            ),
            413,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        _unchanged(session, "QUEUED", entries)
    # a forged signature (right secret, other body)
    body = json.dumps(_success("EVT-8")).encode()
    headers = signing.headers(DEV_BANK_SECRET, "EVT-8", clock.now(), b"other body")
    assert client.post("/api/v1/bank/receipts", content=body, headers=headers).status_code == 401
    _unchanged(session, "QUEUED", entries)


def test_replays_and_contradictions(
    client: TestClient, session: Session, clock: SimulatedClock, queued: PaymentInstruction
) -> None:
    entries = _entries(session)
    assert _callback(client, clock, _success()).status_code == 200
    assert _instruction(session).status == "SUCCESS" and _entries(session) == entries + 1
    assert _callback(client, clock, _success()).status_code == 200  # replay: nothing posted
    assert _entries(session) == entries + 1
    assert (
        _callback(client, clock, _success(amount="6000.01")).status_code == 409
    )  # same id, other body
    other_receipt = _success(
        "EVT-9", receipt={"receipt_no": "HD2026030900000002", "amount": "6000.00"}
    )
    assert _callback(client, clock, other_receipt).status_code == 409
    failed_after = _success(
        "EVT-10", status="FAILED", receipt=None, failure={"code": "X", "reason": "x"}
    )
    assert _callback(client, clock, failed_after).status_code == 409
    _unchanged(session, "SUCCESS", entries + 1)
    alerts = client.get(
        "/api/v1/alerts", headers=builders.bearer(builders.user_token(session, "aud", "auditor"))
    )
    session.commit()
    kinds = {
        a["kind"]
        for a in client.get("/api/v1/alerts", headers=alerts.request.headers).json()["items"]
    }
    assert {"bank_event_conflict", "bank_contradiction"} <= kinds


def test_return_before_its_success_ends_as_in_order(
    client: TestClient, session: Session, clock: SimulatedClock, queued: PaymentInstruction
) -> None:
    """Callbacks out of order: the return (with the receipt number) arrives before the success.
    Both are applied, the success first; the late success changes nothing."""
    entries = _entries(session)
    returned = _success("EVT-R", status="RETURNED", failure={"reason": "账户已销户"})
    assert _callback(client, clock, returned).status_code == 200
    _unchanged(session, "RETURNED", entries + 2)  # the success, then the return
    assert _instruction(session).receipt_no == "HD2026030900000001"
    assert _balance(session, "bank") == 0
    assert _balance(session, "payable", "H001") == 1_000_000  # owed again
    assert _callback(client, clock, _success("EVT-S")).status_code == 200
    assert _callback(client, clock, returned).status_code == 200  # a replay
    _unchanged(session, "RETURNED", entries + 2)
    assert ledger.trial_balance(session).balanced


def test_a_second_return_of_another_receipt_is_a_409_with_an_alert(
    client: TestClient, session: Session, clock: SimulatedClock, queued: PaymentInstruction
) -> None:
    """Issue 14, defect 7: answered 200 `already` with no alert (API.md: 409 and an alert)."""
    returned = _success("EVT-R", status="RETURNED", failure={"reason": "账户已销户"})
    assert _callback(client, clock, returned).status_code == 200
    entries = _entries(session)
    other = _success(
        "EVT-R2",
        status="RETURNED",
        receipt={"receipt_no": "HD2026030900000002", "amount": "6000.00"},
        failure={"reason": "账户已销户"},
    )
    answer = _callback(client, clock, other)
    assert answer.status_code == 409, answer.text
    assert "another receipt" in answer.json()["detail"]
    _unchanged(session, "RETURNED", entries)
    auditor = builders.bearer(builders.user_token(session, "aud", "auditor"))
    session.commit()
    found = client.get("/api/v1/alerts", headers=auditor).json()["items"]
    assert any(
        a["kind"] == "bank_contradiction" and "another receipt" in a["detail"] for a in found
    )
    same = _success("EVT-R3", status="RETURNED", failure={"reason": "账户已销户"})
    assert _callback(client, clock, same).status_code == 200  # the same receipt: already


def test_a_return_without_receipt_before_its_success_is_applied_when_delivered_again(
    client: TestClient, session: Session, clock: SimulatedClock, queued: PaymentInstruction
) -> None:
    entries = _entries(session)
    early = _success("EVT-R", status="RETURNED", receipt=None, failure={"reason": "已销户"})
    assert _callback(client, clock, early).status_code == 409  # not final: asked again
    _unchanged(session, "QUEUED", entries)
    assert _callback(client, clock, _success("EVT-S")).status_code == 200
    assert _callback(client, clock, early).status_code == 200  # the bank's next delivery
    _unchanged(session, "RETURNED", entries + 2)
    unknown = _success("EVT-U", instruction_id="D260306-6401310-H999")
    assert _callback(client, clock, unknown).status_code == 404
    assert _callback(client, clock, unknown).status_code == 200  # stored and answered: API.md


def test_success_after_failed_is_refused(
    client: TestClient, session: Session, clock: SimulatedClock, queued: PaymentInstruction
) -> None:
    failed = _success(
        "EVT-F", status="FAILED", receipt=None, failure={"code": "X", "reason": "拒绝"}
    )
    assert _callback(client, clock, failed).status_code == 200
    entries = _entries(session)
    assert _callback(client, clock, _success("EVT-S")).status_code == 409
    _unchanged(session, "FAILED", entries)


def test_standard_webhooks_interoperability(clock: SimulatedClock) -> None:
    webhook = standardwebhooks.Webhook(DEV_BANK_SECRET)
    body = b'{"hello": "world"}'
    moment = datetime.now(UTC)
    theirs = webhook.sign("msg_1", moment, body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": theirs,
    }
    assert signing.verify([DEV_BANK_SECRET], headers, body, moment) == "msg_1"
    ours = signing.headers(DEV_BANK_SECRET, "msg_2", moment, body)
    assert webhook.verify(body.decode(), ours) == {"hello": "world"}
    rotated = {**ours, "webhook-signature": "v1,AAAA " + ours["webhook-signature"]}
    assert (
        signing.verify(["whsec_" + "b2xk" * 8, DEV_BANK_SECRET], rotated, body, moment) == "msg_2"
    )


def test_timeout_after_send_is_unknown_then_resolved_by_query(
    session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    _queue(session, clock)
    with simulator(clock) as (sim, url):
        ctx = context(session_factory, clock, url, read_timeout_s=0.3)
        sim.stall_next_s = 1.0  # the bank records it, then answers too late
        assert sending.send_queued(ctx, [ID]) == {
            ID: "ACCEPTED"
        }  # UNKNOWN, then the query says ACCEPTED
        clock.advance(timedelta(minutes=31))
        ctx.gateway = context(session_factory, clock, url).gateway
        assert sending.requery_due(ctx) == {ID: "SUCCESS"}
        assert sim.requests_received == 1  # never a second instruction
        assert _instruction(session).receipt_no is not None


def test_5xx_is_unknown_not_failed(
    session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    _queue(session, clock)
    with simulator(clock) as (sim, url):
        ctx = context(session_factory, clock, url)
        sim.fail_next = 1
        assert sending.send_queued(ctx, [ID]) == {ID: "ACCEPTED"}
        assert sim.requests_received == 1


def test_409_from_the_bank_is_unknown_not_failed(
    session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    _queue(session, clock)
    with simulator(clock) as (sim, url):
        ctx = context(session_factory, clock, url)
        # the bank already holds this id with another body
        from app.bank.simdata import SimPayment

        sim.payments[ID] = SimPayment(
            ID,
            {"amount": "1.00"},
            "other",
            clock.now(),
            "SUCCESS",
            clock.now() + timedelta(hours=1),
        )
        assert sending.send_queued(ctx, [ID]) == {ID: "ACCEPTED"}  # unknown, then the query
        assert _instruction(session).status != "FAILED"


def test_connection_refused_is_retried_with_the_same_id(
    session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    _queue(session, clock)
    dead = context(session_factory, clock, "http://127.0.0.1:9")
    assert sending.send_queued(dead, [ID]) == {ID: "QUEUED"}
    assert _instruction(session).attempts == 3
    with simulator(clock) as (sim, url):
        live = context(session_factory, clock, url)
        assert sending.requery_due(live) == {}  # not right after its own attempts
        clock.advance(timedelta(minutes=5))
        assert sending.requery_due(live) == {ID: "ACCEPTED"}
        assert list(sim.payments) == [ID]


def test_saved_but_never_sent_goes_with_the_sweep_before_the_cutoff(
    session: Session, session_factory, clock: SimulatedClock
) -> None:  # type: ignore[no-untyped-def]
    """The process stopped between saving the instruction (outbox) and sending it."""
    from app.alerts.models import Alert

    _queue(session, clock)  # saved at 14:30 on Monday, never sent
    with simulator(clock) as (sim, url):
        ctx = context(session_factory, clock, url)
        assert sending.requery_due(ctx) == {}  # the submission job sends its own first
        clock.set(at(MON, 15, 5))
        assert sending.requery_due(ctx) == {}  # after the cutoff: nothing leaves
        with session_factory() as reading:  # the sweep's next chance: Tuesday, first thing
            assert sending.next_requery_due(reading, ctx.settings) == at(MON, 14, 35)
            due = sending.next_requery_due(reading, ctx.settings, clock.now())
            assert due == at(date(2026, 3, 10), 0, 0)
        clock.set(at(date(2026, 3, 10), 16))
        assert sending.requery_due(ctx) == {}
        session.expire_all()
        alert = session.scalar(select(Alert).where(Alert.kind == "bank_unsent"))
        assert alert is not None and alert.subject == f"640100:310:{MON}"  # per fund and day
        assert alert.detail.startswith(f"1 payment instruction(s) saved for {MON}")
        assert sim.requests_received == 0
        clock.set(at(date(2026, 3, 11), 9, 30))
        assert sending.requery_due(ctx) == {ID: "ACCEPTED"}
        assert list(sim.payments) == [ID]
        assert _instruction(session).attempts == 1
        assert sending.requery_due(ctx) == {}  # sent once
