"""Payee changes under two people (issue 19 item 1): one person never moves money; the old
account is paid until the second approval and the new one after; instructions saved before
keep their account; the bank checks the payee name against the account (户名校验)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import Alert
from app.auth.principal import Principal
from app.bank import sending
from app.bank.models import PaymentInstruction
from app.bank.simulator import NAME_MISMATCH_REASON
from app.clock import SimulatedClock
from app.config import Settings
from app.daily import service as daily
from app.institutions import service as institutions
from app.main import create_app
from jobs import submission
from tests.support import builders
from tests.support.bank import CALLBACK_URL, context, poster, simulator
from tests.support.daily import at, generate, settle

FRI, MON, TUE, WED = date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)
ACCOUNTANT = Principal(None, "acc-batches", "accountant")
NEW_ACCOUNT, NEW_NAME = "6222000000000777", "医院H001（新户）"


@pytest.fixture
def app(session_factory: sessionmaker[Session], clock: SimulatedClock) -> FastAPI:
    settings = Settings(environment="test", database_url="sqlite://", callback_url=CALLBACK_URL)
    return create_app(settings, session_factory=session_factory, clock=clock)


@pytest.fixture
def tokens(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    found = {
        name: builders.bearer(builders.user_token(session, name, role, code))
        for name, role, code in (
            ("op", "operator", None),
            ("adm", "admin", None),
            ("acc", "accountant", None),
            ("aud", "auditor", None),
            ("h1", "hospital", "H001"),
            ("h2", "hospital", "H002"),
        )
    }
    session.commit()
    return found


def _batch(session: Session, day: date, setl_id: str) -> None:
    """A settlement of `day` in its daily batch, approved (paid on the next working day)."""
    settle(session, "H001", setl_id, 1_000_000, day)
    batch = generate(session, day)
    daily.approve(session, batch.id, actor=ACCOUNTANT, now=at(day + timedelta(days=1), 0, 40))
    session.commit()


def _instruction(session: Session, instruction_id: str) -> PaymentInstruction:
    session.expire_all()
    row = session.get(PaymentInstruction, instruction_id)
    assert row is not None
    return row


def _alerts(session: Session, kind: str) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).where(Alert.kind == kind)))


def test_old_account_until_the_second_approval_new_one_after(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
    tokens: dict[str, dict[str, str]],
) -> None:
    old = institutions.get_institution(session, "H001")
    old_account, old_name = old.bank_account, old.bank_account_name
    base = "/api/v1/institutions/H001"

    # The operator can no longer change the payee directly: 422 naming the new endpoint.
    patched = client.patch(base, json={"bank_account": NEW_ACCOUNT}, headers=tokens["op"])
    assert patched.status_code == 422
    error = patched.json()["errors"][0]
    assert error["field"] == "bank_account" and error["rule"] == "payee_change_required"
    assert "/payee-changes" in error["message"]
    # the same values, or other fields, still go through
    same = client.patch(base, json={"bank_account": old_account, "level": 2}, headers=tokens["op"])
    assert same.status_code == 200 and same.json()["level"] == 2

    clock.set(at(FRI, 16))
    requested = client.post(
        f"{base}/payee-changes",
        json={"bank_account": NEW_ACCOUNT, "bank_account_name": NEW_NAME, "reason": "银行换户"},
        headers=tokens["adm"],
    )
    assert requested.status_code == 201, requested.text
    change = requested.json()
    assert change["status"] == "PENDING" and change["old"]["bank_account"] == old_account
    assert change["new"] == {
        "bank_account": NEW_ACCOUNT,
        "bank_account_name": NEW_NAME,
        "bank_code": old.bank_code,
    }
    again = client.post(
        f"{base}/payee-changes",
        json={"bank_code": "102871000099", "reason": "x"},
        headers=tokens["op"],
    )
    assert again.status_code == 409  # one pending request at a time
    approve = f"{base}/payee-changes/{change['id']}/approve"
    own = client.post(approve, headers=tokens["adm"])
    assert own.status_code == 403 and "requester" in own.json()["detail"]
    assert client.post(approve, headers=tokens["op"]).status_code == 403  # not a checker
    assert client.post(approve, headers=tokens["aud"]).status_code == 403
    assert client.get(base, headers=tokens["acc"]).json()["bank_account"] == old_account
    assert [a.subject for a in _alerts(session, "payee_change_pending")] == [f"H001:{change['id']}"]
    assert _alerts(session, "payee_changed") == []  # not before the second approval

    with simulator(clock) as (sim, url):
        sim.open_account(old_account, old_name)
        sim.open_account(NEW_ACCOUNT, NEW_NAME)
        ctx = context(session_factory, clock, url)
        deliver = poster(client)

        # Monday: the change is still pending, the old account is paid.
        _batch(session, FRI, "S1")
        clock.set(at(MON, 14, 30))
        assert submission.run(ctx, MON)["queued"] == ["D260306-6401310-H001"]
        clock.advance(timedelta(minutes=1))
        sim.deliver_due(deliver)
        paid = _instruction(session, "D260306-6401310-H001")
        assert paid.status == "SUCCESS" and paid.payee_account == old_account
        assert paid.receipt["payee_account"] == old_account

        # Tuesday: an instruction saved before the approval keeps the old account.
        _batch(session, MON, "S2")
        clock.set(at(TUE, 9))
        fund = institutions.get_fund_ledger(session, "640100", "310")
        assert daily.submit_due(session, fund, today=TUE, now=clock.now()) == [
            "D260309-6401310-H001"
        ]
        session.commit()
        clock.set(at(TUE, 10))
        approved = client.post(approve, headers=tokens["acc"])
        assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
        assert approved.json()["decided_by"] == "acc"
        assert client.post(approve, headers=tokens["acc"]).json() == approved.json()  # again
        clock.set(at(TUE, 14, 30))
        sending.send_queued(ctx, ["D260309-6401310-H001"])
        clock.advance(timedelta(minutes=1))
        sim.deliver_due(deliver)
        queued = _instruction(session, "D260309-6401310-H001")
        assert queued.status == "SUCCESS" and queued.payee_account == old_account

        # Wednesday: created after the approval, the new account is paid.
        _batch(session, TUE, "S3")
        clock.set(at(WED, 14, 30))
        assert submission.run(ctx, WED)["queued"] == ["D260310-6401310-H001"]
        clock.advance(timedelta(minutes=1))
        sim.deliver_due(deliver)
        new = _instruction(session, "D260310-6401310-H001")
        assert new.status == "SUCCESS"
        assert (new.payee_account, new.payee_name) == (NEW_ACCOUNT, NEW_NAME)

    # Every version kept with who and when; the hospital sees its own, not another's.
    versions = client.get(f"{base}/payee-changes", headers=tokens["h1"])
    assert versions.status_code == 200
    [version] = versions.json()
    assert version["requested_by"] == "adm" and version["decided_by"] == "acc"
    assert version["old"]["bank_account"] == old_account
    assert version["decided_at"].startswith("2026-03-10T02:00")
    assert client.get(f"{base}/payee-changes", headers=tokens["h2"]).status_code == 404
    assert [a.subject for a in _alerts(session, "payee_changed")] == [f"H001:{change['id']}"]
    assert _alerts(session, "payee_change_pending")[0].resolved_at is not None
    statement = client.get(
        "/api/v1/ledger/accounts/payable:640100:310:H001/statement",
        params={"from": "2026-03-01", "to": "2026-03-31"},
        headers=tokens["h1"],
    )
    assert statement.status_code == 200, statement.text
    [shown] = statement.json()["payee_changes"]
    assert shown["new"]["bank_account"] == NEW_ACCOUNT and shown["decided_by"] == "acc"


def test_rejected_change_changes_nothing(
    client: TestClient, session: Session, tokens: dict[str, dict[str, str]]
) -> None:
    base = "/api/v1/institutions/H001/payee-changes"
    nothing = client.post(
        base,
        json={"bank_code": institutions.get_institution(session, "H001").bank_code, "reason": "x"},
        headers=tokens["op"],
    )
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["rule"] == "payee_changed"
    change = client.post(
        base, json={"bank_account": NEW_ACCOUNT, "reason": "x"}, headers=tokens["op"]
    ).json()
    refused = client.post(
        f"{base}/{change['id']}/reject", json={"note": "未见开户证明"}, headers=tokens["adm"]
    )
    assert refused.status_code == 200 and refused.json()["status"] == "REJECTED"
    late = client.post(f"{base}/{change['id']}/approve", headers=tokens["acc"])
    assert late.status_code == 409
    assert (
        client.get("/api/v1/institutions/H001", headers=tokens["acc"]).json()["bank_account"]
        != NEW_ACCOUNT
    )
    assert client.get(f"{base}/999", headers=tokens["acc"]).status_code in (404, 405)


def test_bank_refuses_a_payee_name_that_does_not_match_the_account(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SimulatedClock,
    tokens: dict[str, dict[str, str]],
) -> None:
    _batch(session, FRI, "S1")
    clock.set(at(MON, 14, 30))
    institution = institutions.get_institution(session, "H001")
    with simulator(clock) as (sim, url):
        sim.open_account(institution.bank_account, "另一个户名")
        ctx = context(session_factory, clock, url)
        submission.run(ctx, MON)
        clock.advance(timedelta(minutes=1))
        sim.deliver_due(poster(client))
    failed = _instruction(session, "D260306-6401310-H001")
    assert failed.status == "FAILED"
    assert (failed.failure_code, failed.failure_reason) == ("NAME_MISMATCH", NAME_MISMATCH_REASON)
