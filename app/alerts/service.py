"""Alerts: raised idempotently on (kind, subject), listed by the API and the scenario result,
acknowledged by an operator."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.auth.principal import Principal
from app.errors import NotFound
from app.trail import service as trail

log = logging.getLogger("fundledger.alerts")


def raise_alert(session: Session, *, kind: str, subject: str, detail: str, now: datetime) -> Alert:
    """Raise once; raising an open alert again returns it unchanged."""
    existing = session.scalar(select(Alert).where(Alert.kind == kind, Alert.subject == subject))
    if existing is not None:
        return existing
    alert = Alert(at=now, kind=kind, subject=subject, detail=detail[:500])
    session.add(alert)
    session.flush()
    log.warning("alert %s %s: %s", kind, subject, detail)
    return alert


def resolve(session: Session, *, kind: str, subject: str, now: datetime) -> None:
    existing = session.scalar(select(Alert).where(Alert.kind == kind, Alert.subject == subject))
    if existing is not None and existing.resolved_at is None:
        existing.resolved_at = now
        session.flush()


def resolve_absent(
    session: Session, *, kinds: Sequence[str], present: set[tuple[str, str]], now: datetime
) -> int:
    """Resolve the open alerts of these kinds whose condition is gone (not in `present`, as
    (kind, subject)). Returns how many."""
    rows = session.scalars(
        select(Alert).where(Alert.kind.in_(list(kinds)), Alert.resolved_at.is_(None))
    ).all()
    count = 0
    for alert in rows:
        if (alert.kind, alert.subject) not in present:
            alert.resolved_at = now
            count += 1
    session.flush()
    return count


def acknowledge(session: Session, *, alert_id: int, actor: Principal, now: datetime) -> Alert:
    """Someone is on it: the first acknowledgement stands (again: unchanged, no new trail
    event). Independent of resolution: a resolved alert can still be acknowledged."""
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if alert.acknowledged_at is not None:
        return alert
    alert.acknowledged_at = now
    alert.acknowledged_by = actor.name
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="alert.acknowledge",
        entity="alert",
        key=str(alert_id),
        before=None,
        after={"kind": alert.kind, "subject": alert.subject},
        now=now,
    )
    return alert


def list_alerts(
    session: Session, *, kind: str | None, open_only: bool, after_id: int | None, limit: int
) -> list[Alert]:
    query = select(Alert).order_by(Alert.id).limit(limit)
    if kind:
        query = query.where(Alert.kind == kind)
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    if after_id is not None:
        query = query.where(Alert.id > after_id)
    return list(session.scalars(query))
