"""Finance side of the daily batch over HTTP: approval, rejection, hold-back, re-push,
maker–checker, the second approval, submission to the outbox and the ledger after each step."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.daily import service as daily
from app.errors import Forbidden
from app.institutions import service as institutions
from app.ledger import service as ledger
from app.ledger.rules import account_code
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, settle

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)


def _setup(session: Session, threshold: str | None = None) -> tuple[dict[str, dict[str, str]], int]:
    builders.fund(session, approval_threshold=threshold)
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    settle(session, "H001", "S1", 1_000_000, FRI)
    settle(session, "H002", "S2", 500_000, FRI)
    batch = generate(session, FRI)
    headers = {
        "acc1": bearer(builders.user_token(session, "acc1", "accountant")),
        "acc2": bearer(builders.user_token(session, "acc2", "accountant")),
        "op": bearer(builders.user_token(session, "op", "operator")),
        "h1": bearer(builders.user_token(session, "h1", "hospital", "H001")),
    }
    session.commit()
    return headers, batch.id


def _payable(session: Session, code: str) -> int:
    return ledger.balance_or_zero(session, account_code("payable", "640100", "310", code))


def _submit(session: Session, today: date) -> list[str]:
    fund = institutions.get_fund_ledger(session, "640100", "310")
    ids = daily.submit_due(session, fund, today=today, now=at(today, 14, 30))
    session.commit()
    return ids


def test_approve_then_submit(client: TestClient, session: Session) -> None:
    headers, batch_id = _setup(session)
    shown = client.get(f"/api/v1/daily-batches/{batch_id}", headers=headers["acc1"]).json()
    assert shown["status"] == "PUSHED" and shown["pushed_by"] == "system"
    assert [
        (line["fixmedins_code"], line["amount"], line["status"]) for line in shown["lines"]
    ] == [
        ("H001", "6000.00", "NOT_SENT"),
        ("H002", "3000.00", "NOT_SENT"),
    ]
    approved = client.post(f"/api/v1/daily-batches/{batch_id}/approve", headers=headers["acc1"])
    assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
    again = client.post(f"/api/v1/daily-batches/{batch_id}/approve", headers=headers["acc1"])
    assert again.status_code == 200 and again.json()["approved_by"] == ["acc1"]
    assert _submit(session, FRI) == []  # pay date is Monday
    ids = _submit(session, MON)
    assert ids == ["D260306-6401310-H001", "D260306-6401310-H002"]
    assert _submit(session, MON) == []  # nothing is sent twice
    assert _payable(session, "H001") == 1_000_000 - 600_000
    # SPEC §6: sent = debit payable, credit in_transit; the result clears it (credit side here)
    assert ledger.balance_or_zero(session, account_code("in_transit", "640100", "310")) == -900_000
    line = client.get(f"/api/v1/daily-batches/{batch_id}/lines/H001", headers=headers["h1"]).json()
    assert line["status"] == "PENDING" and line["instruction_id"] == "D260306-6401310-H001"
    # issue 14, defect 1: the detail said 60.00 for a line of 6,000.00 (yuan parsed again as fen)
    assert (line["amount"], line["fund_total"]) == ("6000.00", "10000.00")
    assert (
        line["details"][0]["daily_amount"] == "6000.00"
        and line["details"][0]["daily_ratio"] == "0.60"
    )
    assert ledger.trial_balance(session).balanced


def test_a_line_with_fen_reads_the_same_in_the_list_and_the_detail(
    client: TestClient, session: Session
) -> None:
    """Issue 14, defect 1: a line of 13,333.33 answered 500 (int_parsing of a yuan string)."""
    builders.fund(session)
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 2_222_222, FRI)
    batch = generate(session, FRI)
    headers = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    listed = client.get("/api/v1/daily-lines", headers=headers)
    detail = client.get(f"/api/v1/daily-batches/{batch.id}/lines/H001", headers=headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["amount"] == listed.json()["items"][0]["amount"] == "13333.33"
    assert detail.json()["fund_total"] == "22222.22"
    assert detail.json()["details"][0]["daily_amount"] == "13333.33"


def test_reject_hold_back_and_push_again(client: TestClient, session: Session) -> None:
    headers, batch_id = _setup(session)
    base = f"/api/v1/daily-batches/{batch_id}"
    assert (
        client.post(
            f"{base}/lines/H002/hold", json={"held": True}, headers=headers["op"]
        ).status_code
        == 409
    )
    rejected = client.post(
        f"{base}/reject", json={"reason": "H002 账户待核实"}, headers=headers["acc1"]
    )
    assert (
        rejected.json()["status"] == "REJECTED"
        and rejected.json()["rejected_reason"] == "H002 账户待核实"
    )
    assert client.post(f"{base}/approve", headers=headers["acc1"]).status_code == 409
    held = client.post(f"{base}/lines/H002/hold", json={"held": True}, headers=headers["op"])
    assert [line["held"] for line in held.json()["lines"]] == [False, True]
    pushed = client.post(f"{base}/push", headers=headers["op"])
    assert pushed.json()["status"] == "PUSHED" and pushed.json()["pushed_by"] == "op"
    assert client.post(f"{base}/approve", headers=headers["acc2"]).json()["status"] == "APPROVED"
    assert _submit(session, MON) == ["D260306-6401310-H001"]  # the held line is not sent
    assert _payable(session, "H002") == 500_000  # its settlement waits for the monthly settlement
    events = client.get(
        "/api/v1/audit-events", params={"entity": "daily_batch"}, headers=headers["op"]
    ).json()["items"]
    assert [e["action"] for e in events] == [
        "daily_batch.reject",
        "daily_line.hold",
        "daily_batch.push",
        "daily_batch.approve",
    ]


def test_roles(client: TestClient, session: Session) -> None:
    headers, batch_id = _setup(session)
    base = f"/api/v1/daily-batches/{batch_id}"
    assert client.post(f"{base}/approve", headers=headers["op"]).status_code == 403
    assert client.post(f"{base}/approve", headers=headers["h1"]).status_code == 403
    assert client.get(base, headers=headers["h1"]).status_code == 403
    assert client.get(f"{base}/lines/H002", headers=headers["h1"]).status_code == 404
    own = client.get("/api/v1/daily-lines", headers=headers["h1"]).json()["items"]
    assert [line["fixmedins_code"] for line in own] == ["H001"]


def test_maker_cannot_approve(session: Session) -> None:
    _setup(session)
    batch = daily.find_batch(
        session, institutions.get_fund_ledger(session, "640100", "310").id, FRI
    )
    assert batch is not None
    now = at(MON, 9)
    daily.reject(session, batch.id, "x", actor=Principal(None, "acc1", "accountant"), now=now)
    maker = Principal(None, "both-hats", "accountant")  # someone who changed the batch
    daily.hold_line(session, batch.id, "H002", True, actor=maker, now=now)
    daily.push(session, batch.id, actor=Principal(None, "op", "operator"), now=now)
    with pytest.raises(Forbidden):
        daily.approve(session, batch.id, actor=maker, now=now)
    with pytest.raises(Forbidden):
        daily.approve(session, batch.id, actor=Principal(None, "op", "accountant"), now=now)
    assert (
        daily.approve(
            session, batch.id, actor=Principal(None, "acc2", "accountant"), now=now
        ).status
        == "APPROVED"
    )


def test_second_approval_above_threshold(client: TestClient, session: Session) -> None:
    headers, batch_id = _setup(session, threshold="8000.00")  # the batch pays 9,000.00
    base = f"/api/v1/daily-batches/{batch_id}"
    first = client.post(f"{base}/approve", headers=headers["acc1"]).json()
    assert (first["status"], first["approvals_required"], first["approved_by"]) == (
        "PUSHED",
        2,
        ["acc1"],
    )
    assert client.post(f"{base}/approve", headers=headers["acc1"]).json()["status"] == "PUSHED"
    second = client.post(f"{base}/approve", headers=headers["acc2"]).json()
    assert second["status"] == "APPROVED" and second["approved_by"] == ["acc1", "acc2"]


def test_appropriations(client: TestClient, session: Session) -> None:
    headers, _ = _setup(session)
    url = "/api/v1/fund-ledgers/640100/310/appropriations"
    body = {"amount": "100000.00", "reference": "HB-2026-001"}
    assert client.post(url, json=body, headers=headers["op"]).status_code == 403
    assert client.post(url, json=body, headers=headers["acc1"]).status_code == 201
    assert client.post(url, json=body, headers=headers["acc1"]).status_code == 200
    assert (
        client.post(url, json={**body, "amount": "1.00"}, headers=headers["acc1"]).status_code
        == 409
    )
    bad = client.post(url, json={**body, "amount": "0"}, headers=headers["acc1"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "amount_positive"
    assert [row["amount"] for row in client.get(url, headers=headers["acc1"]).json()] == [
        "100000.00"
    ]
    assert ledger.balance_or_zero(session, account_code("bank", "640100", "310")) == 10_000_000
    assert (
        ledger.balance_or_zero(session, account_code("appropriation", "640100", "310"))
        == 10_000_000
    )
