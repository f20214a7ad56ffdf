"""The audit trail: who did what, when, with the state before and after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.trail.models import AuditEvent


def _plain(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, default=str))


def record(
    session: Session,
    *,
    actor: Principal,
    action: str,
    entity: str,
    key: str,
    before: Any,
    after: Any,
    now: datetime,
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor=actor.name,
            actor_role=actor.role,
            action=action,
            entity=entity,
            entity_key=key,
            before=_plain(before),
            after=_plain(after),
        )
    )


def record_many(
    session: Session,
    *,
    actor: Principal,
    action: str,
    entity: str,
    changes: Sequence[tuple[str, Any, Any]],
    now: datetime,
) -> None:
    """Events of one action on several entities, `(key, before, after)` each, written in one
    multi-row insert (a bulk's per-item events) rather than one insert each."""
    if not changes:
        return
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": now,
                "actor": actor.name,
                "actor_role": actor.role,
                "action": action,
                "entity": entity,
                "entity_key": key,
                "before": _plain(before),
                "after": _plain(after),
            }
            for key, before, after in changes
        ],
    )


def events(
    session: Session,
    *,
    entity: str | None,
    key: str | None,
    action: str | None,
    after_id: int | None,
    limit: int,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if key:
        query = query.where(AuditEvent.entity_key == key)
    if action:
        query = query.where(AuditEvent.action == action)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    return list(session.scalars(query))
