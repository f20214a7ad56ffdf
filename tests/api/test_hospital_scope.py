"""A hospital naming another institution in a list filter gets 404 (API.md: never a leak,
and never its own data passed off as the other's); its own code, or none, lists its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support import builders
from tests.support.builders import bearer

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
