from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app.alerts import service
from app.auth.deps import Staff
from app.deps import SessionDep
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["alerts"])


class AlertOut(BaseModel):
    id: int
    at: datetime
    kind: str
    subject: str
    detail: str
    resolved_at: datetime | None


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
    return Page(
        items=[
            AlertOut(
                id=r.id,
                at=r.at,
                kind=r.kind,
                subject=r.subject,
                detail=r.detail,
                resolved_at=r.resolved_at,
            )
            for r in page
        ],
        next_cursor=next_cursor,
    )
