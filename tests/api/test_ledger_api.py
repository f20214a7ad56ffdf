from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.ledger import service as ledger
from tests.support import builders
from tests.support.builders import bearer
from tests.support.ledger import NOW, acct, transfer_draft


def _setup(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H1")
    builders.institution(session, "H2")
    headers = {
        "acc": bearer(builders.user_token(session, "acc", "accountant")),
        "aud": bearer(builders.user_token(session, "aud", "auditor")),
        "h1": bearer(builders.user_token(session, "h1", "hospital", "H1")),
    }
    ledger.post(session, transfer_draft("a", acct("bank"), acct("appropriation"), 100000), now=NOW)
    ledger.post(
        session, transfer_draft("b", acct("expense", "H1"), acct("payable", "H1"), 2500), now=NOW
    )
    later = NOW + timedelta(days=1)
    ledger.post(
        session,
        transfer_draft("c", acct("expense", "H2"), acct("payable", "H2"), 700, when=later),
        now=later,
    )
    session.commit()
    return headers


def test_trial_balance_and_accounts(client: TestClient, session: Session) -> None:
    headers = _setup(session)
    trial = client.get("/api/v1/ledger/trial-balance", headers=headers["aud"]).json()
    assert trial["balanced"] is True
    assert trial["debits"] == trial["credits"] == "1032.00"
    assert {"code": "payable:640100:310:H1", "balance": "25.00"} in trial["accounts"]
    earlier = client.get(
        "/api/v1/ledger/trial-balance", params={"as_of": NOW.isoformat()}, headers=headers["acc"]
    ).json()
    assert earlier["debits"] == "1025.00"
    bank = client.get("/api/v1/ledger/accounts/bank:640100:310", headers=headers["acc"]).json()
    assert bank["balance"] == "1000.00"


def test_hospital_sees_only_its_own_accounts_and_entries(
    client: TestClient, session: Session
) -> None:
    headers = _setup(session)
    own = client.get("/api/v1/ledger/accounts", headers=headers["h1"]).json()
    assert {row["code"] for row in own} == {"expense:640100:310:H1", "payable:640100:310:H1"}
    assert (
        client.get(
            "/api/v1/ledger/accounts/payable:640100:310:H2", headers=headers["h1"]
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/ledger/accounts/bank:640100:310", headers=headers["h1"]).status_code
        == 404
    )
    entries = client.get("/api/v1/ledger/entries", headers=headers["h1"]).json()["items"]
    assert [e["idempotency_key"] for e in entries] == ["b"]
    assert entries[0]["postings"] == [
        {"account": "expense:640100:310:H1", "side": "D", "amount": "25.00"},
        {"account": "payable:640100:310:H1", "side": "C", "amount": "25.00"},
    ]
    all_entries = client.get("/api/v1/ledger/entries", headers=headers["acc"]).json()["items"]
    other = next(e for e in all_entries if e["idempotency_key"] == "c")
    assert (
        client.get(f"/api/v1/ledger/entries/{other['id']}", headers=headers["h1"]).status_code
        == 404
    )
    assert client.get("/api/v1/ledger/trial-balance", headers=headers["h1"]).status_code == 403


def test_no_endpoint_posts_entries(client: TestClient, session: Session) -> None:
    headers = _setup(session)
    for path in ("/api/v1/ledger/entries", "/api/v1/ledger/accounts"):
        assert client.post(path, json={}, headers=headers["acc"]).status_code == 405


def test_times_without_offset_and_ids_beyond_bigint_are_422(
    client: TestClient, session: Session
) -> None:
    auditor = bearer(builders.user_token(session, "aud-422", "auditor"))
    session.commit()
    for url in (
        "/api/v1/ledger/accounts?as_of=2026-03-01T00:00:00",
        "/api/v1/ledger/trial-balance?as_of=2026-03-01",
    ):
        response = client.get(url, headers=auditor)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == "as_of"
    for url in (f"/api/v1/ledger/entries/{2**63}", "/api/v1/ledger/entries/0"):
        response = client.get(url, headers=auditor)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == "entry_id"
