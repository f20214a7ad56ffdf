from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.auth.deps import require
from app.auth.principal import Principal
from app.deps import SessionDep
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from app.trail import service

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["audit trail"])


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    entity: str
    entity_key: str
    before: Any
    after: Any


@router.get("/audit-events")
def list_events(
    session: SessionDep,
    _: Principal = Depends(require("auditor", "admin", "operator")),
    entity: str | None = None,
    key: str | None = None,
    action: str | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> Page[AuditEventOut]:
    """The append-only trail of reference-data changes and role-restricted actions."""
    rows = service.events(
        session,
        entity=entity,
        key=key,
        action=action,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.id)
    return Page(
        items=[
            AuditEventOut(
                id=r.id,
                at=r.at,
                actor=r.actor,
                actor_role=r.actor_role,
                action=r.action,
                entity=r.entity,
                entity_key=r.entity_key,
                before=r.before,
                after=r.after,
            )
            for r in page
        ],
        next_cursor=next_cursor,
    )
