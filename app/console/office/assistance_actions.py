"""The writes of the assistance clearing pages (实时清算提示, 事前告知书), in one adapter like
office/actions.py: each calls the same service the API route calls (clearings.clear,
suggestions.clear_many, claims.notice_delivered). The caller holds the transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from app.assistance import claims, clearings, suggestions
from app.assistance.clearing_models import AssistanceClearing
from app.assistance.recovery import Resolution
from app.auth.principal import Principal
from app.clock import business_date

REFERENCE_MAX = suggestions.REFERENCE_MAX


def day_tag(now: datetime) -> str:
    return business_date(now).strftime("%Y%m%d")


def one_reference(now: datetime, psn_no: str, year: int) -> str:
    """`RT-<yyyymmdd>-<psn_no>-<year>` (the business date); a person number too long for the
    40 characters of a reference is replaced by 16 hex digits of its SHA-256. The same click
    again the same day is a replay of the result, not a second clearing."""
    reference = f"RT-{day_tag(now)}-{psn_no}-{year}"
    if len(reference) <= REFERENCE_MAX:
        return reference
    digest = hashlib.sha256(psn_no.encode()).hexdigest()[:16]
    return f"RT-{day_tag(now)}-{digest}-{year}"


def batch_prefix(now: datetime) -> str:
    """The reference prefix of 全部清算: `RT-<yyyymmdd>` (each `RT-<yyyymmdd>:<psn_no>:<year>`)."""
    return f"RT-{day_tag(now)}"


def clear_one(
    session: Session,
    *,
    psn_no: str,
    year: int,
    resolution: Resolution | None,
    actor: Principal,
    now: datetime,
) -> tuple[AssistanceClearing, bool]:
    return clearings.clear(
        session,
        reference=one_reference(now, psn_no, year),
        psn_no=psn_no,
        year=year,
        resolution=resolution,
        actor=actor,
        now=now,
    )


def clear_region(
    session: Session,
    *,
    region_code: str,
    resolution: Resolution | None,
    actor: Principal,
    now: datetime,
) -> list[suggestions.Outcome]:
    return suggestions.clear_many(
        session,
        region_code=region_code,
        reference_prefix=batch_prefix(now),
        persons=None,
        resolution=resolution,
        actor=actor,
        now=now,
    )


def notice_delivered(session: Session, reference: str, *, actor: Principal, now: datetime) -> None:
    claims.notice_delivered(session, reference, actor=actor, now=now)
