"""A settlement's status over its life (API.md GET /settlements: accepted, batched, paid,
revoked), in the list filter and in each item. Issue 14, defect 2: the filter answered 500 for
every value and `status` never said batched or paid."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.bank import service as bank
from app.daily import service as daily
from app.institutions import service as institutions
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, revoke, settle

FRI, MON = date(2026, 3, 6), date(2026, 3, 9)


def _by_status(client: TestClient, headers: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for status in ("accepted", "batched", "paid", "revoked"):
        response = client.get("/api/v1/settlements", params={"status": status}, headers=headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert all(item["status"] == status for item in items), items
        found[status] = [item["setl_id"] for item in items]
    everything = client.get("/api/v1/settlements", headers=headers).json()["items"]
    assert sorted(s for ids in found.values() for s in ids) == sorted(
        item["setl_id"] for item in everything
    )  # each settlement has exactly one status
    return found


def test_statuses_through_batching_payment_and_revocation(
    client: TestClient, session: Session
) -> None:
    builders.fund(session)
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    settle(session, "H001", "S1", 1_000_000, FRI)
    settle(session, "H001", "S2", 200_000, FRI)
    settle(session, "H002", "S3", 500_000, FRI)
    revoke(session, "H001", "S2", at(FRI, 16))  # before batching
    acc = bearer(builders.user_token(session, "acc", "accountant"))
    aud = bearer(builders.user_token(session, "aud", "auditor"))
    h1 = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    assert _by_status(client, aud) == {
        "accepted": ["S1", "S3"],
        "batched": [],
        "paid": [],
        "revoked": ["S2"],
    }
    batch = generate(session, FRI)
    settle(session, "H001", "S4", 300_000, MON)  # after the batch: not in it
    session.commit()
    assert _by_status(client, aud) == {
        "accepted": ["S4"],
        "batched": ["S1", "S3"],
        "paid": [],
        "revoked": ["S2"],
    }
    assert client.post(f"/api/v1/daily-batches/{batch.id}/approve", headers=acc).status_code == 200
    fund = institutions.get_fund_ledger(session, "640100", "310")
    first, second = daily.submit_due(session, fund, today=MON, now=at(MON, 14, 30))
    instruction = bank.find(session, first)
    assert instruction is not None and instruction.fixmedins_code == "H001"
    bank.apply_result(
        session,
        instruction,
        "SUCCESS",
        instruction.amount_fen,
        instruction.payee_account,
        {"receipt_no": "HD2026030900000001"},
        None,
        at(MON, 15),
    )
    session.commit()
    assert _by_status(client, aud) == {
        "accepted": ["S4"],
        "batched": ["S3"],  # H002's payment has no result yet
        "paid": ["S1"],
        "revoked": ["S2"],
    }
    one = client.get("/api/v1/settlements/H001/S1", headers=h1)
    assert one.status_code == 200 and one.json()["status"] == "paid"
    revoke(session, "H001", "S1", at(MON, 16))  # after payment: revoked wins
    session.commit()
    assert _by_status(client, h1) == {
        "accepted": ["S4"],
        "batched": [],
        "paid": [],
        "revoked": ["S1", "S2"],
    }
    assert second.endswith("H002")
