from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app.alerts import service
from app.alerts.models import Alert
from app.auth.deps import Operator, Staff
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["alerts"])


class AlertOut(BaseModel):
    id: int
    at: datetime
    kind: str
    subject: str
    detail: str
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def _alert_out(row: Alert) -> AlertOut:
    return AlertOut(
        id=row.id,
        at=row.at,
        kind=row.kind,
        subject=row.subject,
        detail=row.detail,
        resolved_at=row.resolved_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


@router.get("/alerts")
def list_alerts(
    _: Staff,
    session: SessionDep,
    kind: str | None = None,
    open_only: bool = False,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[AlertOut]:
    rows = service.list_alerts(
        session, kind=kind, open_only=open_only, after_id=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    return Page(items=[_alert_out(r) for r in page], next_cursor=next_cursor)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: IdPath, actor: Operator, session: SessionDep, clock: ClockDep
) -> AlertOut:
    """An operator acknowledges an alert (someone is on it); again: the first answer."""
    with session.begin():
        return _alert_out(
            service.acknowledge(session, alert_id=alert_id, actor=actor, now=clock.now())
        )
