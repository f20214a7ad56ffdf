"""Two staff lists read a page in a fixed number of SQL statements, whatever its length
(issue 20: set-based reads, never a query per row): the daily batches (their approvers and
the calendar warning) and the institutions (their enrolments). The rows read the same as one
at a time."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support import builders
from tests.support.builders import bearer
from tests.support.daily import generate, settle
from tests.support.sqlcount import sql_statements

MON = date(2026, 3, 2)


def _count(client: TestClient, session: Session, url: str, headers: dict[str, str]) -> int:
    with sql_statements(session) as seen:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return len(seen)


def test_the_daily_batches_list_reads_a_page_at_once(client: TestClient, session: Session) -> None:
    builders.fund(session)
    builders.institution(session, "H001")
    headers = {
        "acc1": bearer(builders.user_token(session, "acc1", "accountant")),
        "acc2": bearer(builders.user_token(session, "acc2", "accountant")),
    }
    days = [MON + timedelta(days=n) for n in range(5)]
    ids = []
    for n, day in enumerate(days[:2]):
        settle(session, "H001", f"S{n}", 100_000 + n, day)
        ids.append(generate(session, day).id)
    session.commit()
    url = "/api/v1/daily-batches?limit=50"
    two = _count(client, session, url, headers["acc1"])
    for n, day in enumerate(days[2:], start=2):
        settle(session, "H001", f"S{n}", 100_000 + n, day)
        ids.append(generate(session, day).id)
    session.commit()
    approved = client.post(f"/api/v1/daily-batches/{ids[1]}/approve", headers=headers["acc2"])
    assert approved.status_code == 200, approved.text
    assert _count(client, session, url, headers["acc1"]) == two  # five batches, as many
    listed = client.get(url, headers=headers["acc1"]).json()["items"]
    assert len(listed) == 5
    for item in listed:  # each as the single read shows it
        single = client.get(f"/api/v1/daily-batches/{item['id']}", headers=headers["acc1"]).json()
        assert item["approved_by"] == single["approved_by"]
        assert item["calendar_warning"] == single["calendar_warning"]
    by_id = {item["id"]: item for item in listed}
    assert by_id[ids[1]]["approved_by"] == ["acc2"]
    assert by_id[ids[0]]["approved_by"] == []


def test_the_institutions_list_reads_a_page_at_once(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001", insutypes=("310", "390"))
    builders.institution(session, "H002")
    headers = bearer(builders.user_token(session, "acc1", "accountant"))
    session.commit()
    url = "/api/v1/institutions?limit=50"
    two = _count(client, session, url, headers)
    for n in range(3, 9):
        builders.institution(session, f"H{n:03d}", insutypes=("390",) if n % 2 else ("310",))
    session.commit()
    assert _count(client, session, url, headers) == two  # eight institutions, as many
    listed = client.get(url, headers=headers).json()["items"]
    assert len(listed) == 8
    for item in listed:
        single = client.get(f"/api/v1/institutions/{item['code']}", headers=headers).json()
        assert item == single
    first = next(item for item in listed if item["code"] == "H001")
    assert [e["insutype"] for e in first["enrollments"]] == ["310", "390"]
