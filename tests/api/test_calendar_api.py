from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.workdays import service as workdays
from tests.support import builders
from tests.support.builders import bearer


def test_operator_overrides_and_confirms(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    op = bearer(builders.user_token(session, "op", "operator"))
    h1 = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    assert (
        client.put(
            "/api/v1/calendar/overrides/2026-03-16", json={"working": False}, headers=h1
        ).status_code
        == 403
    )
    response = client.put(
        "/api/v1/calendar/overrides/2026-03-16", json={"working": False, "note": "暴雪"}, headers=op
    )
    assert response.json() == {
        "date": "2026-03-16",
        "working": False,
        "official_working": True,
        "override": True,
    }
    year = client.get("/api/v1/calendar/2026", headers=h1).json()
    day = next(d for d in year["days"] if d["date"] == "2026-03-16")
    assert day["working"] is False and day["override"] is True
    assert year["confirmed"] is False and "not confirmed" in year["warning"]
    assert client.post("/api/v1/calendar/years/2026/confirm", headers=op).status_code == 200
    assert client.get("/api/v1/calendar/2026", headers=h1).json()["confirmed"] is True
    assert client.delete("/api/v1/calendar/overrides/2026-03-16", headers=op).status_code == 204
    assert client.delete("/api/v1/calendar/overrides/2026-03-16", headers=op).status_code == 404
    bad = client.put("/api/v1/calendar/overrides/2026-02-30", json={"working": True}, headers=op)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "day"


def test_unconfirmed_next_year_alerts_from_december(session: Session) -> None:
    now = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert not workdays.check_next_year_confirmed(session, today=date(2026, 11, 30), now=now)
    assert workdays.check_next_year_confirmed(session, today=date(2026, 12, 1), now=now)
    workdays.check_next_year_confirmed(session, today=date(2026, 12, 2), now=now)
    raised = alerts.list_alerts(
        session, kind="calendar_unconfirmed", open_only=True, after_id=None, limit=10
    )
    assert [(a.subject, a.at) for a in raised] == [("2027", now)]
    workdays.confirm_year(session, year=2027, actor="op", now=now)
    assert (
        alerts.list_alerts(
            session, kind="calendar_unconfirmed", open_only=True, after_id=None, limit=10
        )
        == []
    )
    assert not workdays.check_next_year_confirmed(session, today=date(2026, 12, 3), now=now)
