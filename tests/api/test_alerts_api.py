"""Alerts: an operator acknowledges one (once; the first acknowledgement stands, in the trail)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.trail.models import AuditEvent
from tests.support import builders
from tests.support.builders import bearer

RAISED = datetime(2026, 3, 1, tzinfo=UTC)


def test_an_operator_acknowledges_an_alert_once(client: TestClient, session: Session) -> None:
    builders.institution(session, "H001")
    alert = alerts.raise_alert(
        session, kind="calendar_unconfirmed", subject="2027", detail="not confirmed", now=RAISED
    )
    op = bearer(builders.user_token(session, "op", "operator"))
    acc = bearer(builders.user_token(session, "acc", "accountant"))
    aud = bearer(builders.user_token(session, "aud", "auditor"))
    h1 = bearer(builders.user_token(session, "h1", "hospital", "H001"))
    session.commit()
    url = f"/api/v1/alerts/{alert.id}/acknowledge"
    for refused in (acc, aud, h1):
        assert client.post(url, headers=refused).status_code == 403
    listed = client.get("/api/v1/alerts", headers=aud).json()["items"]
    assert listed[0]["acknowledged_at"] is None and listed[0]["acknowledged_by"] is None

    first = client.post(url, headers=op)
    assert first.status_code == 200, first.text
    assert first.json()["acknowledged_by"] == "op"
    assert first.json()["acknowledged_at"] == "2026-03-06T02:00:00Z"
    assert first.json()["resolved_at"] is None  # acknowledged is not resolved

    other = bearer(builders.user_token(session, "op2", "operator"))
    session.commit()
    again = client.post(url, headers=other)
    assert again.status_code == 200 and again.json() == first.json()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "alert.acknowledge")
    ).all()
    assert [(e.actor, e.entity_key) for e in events] == [("op", str(alert.id))]
    missing = client.post("/api/v1/alerts/999999/acknowledge", headers=op)
    assert missing.status_code == 404
