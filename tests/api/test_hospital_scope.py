"""A hospital naming another institution in a list filter gets 404 (API.md: never a leak,
and never its own data passed off as the other's); its own code, or none, lists its own."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.daily import service as daily
from app.institutions import service as institutions
from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import at, generate, settle

LISTS = [
    "/api/v1/statements",
    "/api/v1/settlements",
    "/api/v1/daily-lines",
    "/api/v1/audits",
    "/api/v1/procurement-advances",
    "/api/v1/receivables",
    "/api/v1/annual/clearings",
    "/api/v1/ledger/accounts",
    "/api/v1/ledger/entries",
]


@pytest.mark.parametrize("path", LISTS)
def test_another_institutions_code_in_a_filter_is_404(
    client: TestClient, session: Session, path: str
) -> None:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    hospital = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    auditor = bearer(builders.user_token(session, "aud", "auditor"))
    session.commit()
    other = client.get(path, params={"fixmedins_code": "H002"}, headers=hospital)
    assert other.status_code == 404, other.text
    assert other.json()["detail"] == "no institution 'H002'"
    unknown = client.get(path, params={"fixmedins_code": "H999"}, headers=hospital)
    assert unknown.status_code == 404  # the same answer: existence never leaks
    assert unknown.json()["detail"] == "no institution 'H999'"
    assert client.get(path, params={"fixmedins_code": "H001"}, headers=hospital).status_code == 200
    assert client.get(path, headers=hospital).status_code == 200
    staff = client.get(path, params={"fixmedins_code": "H002"}, headers=auditor)
    assert staff.status_code == 200, staff.text


def test_another_hospitals_instruction_reads_as_one_that_does_not_exist(
    client: TestClient, session: Session
) -> None:
    """Issue 14, defect 6: instruction ids are predictable; another hospital's answered
    "no institution 'H002'" where an unknown id answered "no instruction …"."""
    friday, monday = date(2026, 3, 6), date(2026, 3, 9)
    builders.fund(session)
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    settle(session, "H002", "S2", 500_000, friday)
    batch = generate(session, friday)
    h2 = bearer(builders.user_token(session, "h2", "hospital", "H002"))
    acc = bearer(builders.user_token(session, "acc", "accountant"))
    session.commit()
    assert client.post(f"/api/v1/daily-batches/{batch.id}/approve", headers=acc).status_code == 200
    fund = institutions.get_fund_ledger(session, "640100", "310")
    [paid] = daily.submit_due(session, fund, today=monday, now=at(monday, 14, 30))
    h1 = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    own = client.get(f"/api/v1/bank/instructions/{paid}", headers=h2)
    assert own.status_code == 200 and own.json()["fixmedins_code"] == "H002"
    others = client.get(f"/api/v1/bank/instructions/{paid}", headers=h1)
    unknown = client.get("/api/v1/bank/instructions/D260306-6401310-H001", headers=h1)
    assert others.status_code == unknown.status_code == 404
    assert others.json()["detail"] == f"no instruction {paid}"
    assert unknown.json()["detail"] == "no instruction D260306-6401310-H001"
    # a batch that exists (without the hospital's line) answers as one that does not
    existing = client.get(f"/api/v1/daily-batches/{batch.id}/lines/H001", headers=h1)
    missing = client.get(f"/api/v1/daily-batches/{batch.id + 99}/lines/H001", headers=h1)
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["detail"] == f"no line of H001 in daily batch {batch.id}"
    assert missing.json()["detail"] == f"no line of H001 in daily batch {batch.id + 99}"
