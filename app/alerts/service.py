"""Alerts: raised idempotently on (kind, subject), listed by the API and the scenario result."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert

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
