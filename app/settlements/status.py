"""A settlement's status: accepted, batched, paid or revoked (API.md GET /settlements).

revoked: a revocation exists; paid: its daily line was paid (bank SUCCESS); batched: it is in
a daily batch; accepted: none of these yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.settlements.models import Revocation, Settlement


def _revoked() -> Any:
    return exists().where(Revocation.settlement_id == Settlement.id)


def condition(status: str) -> Any:
    """A WHERE condition on Settlement for one status."""
    if status == "revoked":
        return _revoked()
    if status == "accepted":
        return ~_revoked()
    raise ValueError(status)


def of(session: Session, settlement_ids: Sequence[int]) -> dict[int, str]:
    if not settlement_ids:
        return {}
    revoked = set(
        session.scalars(
            select(Revocation.settlement_id).where(Revocation.settlement_id.in_(settlement_ids))
        )
    )
    return {i: "revoked" if i in revoked else "accepted" for i in settlement_ids}
