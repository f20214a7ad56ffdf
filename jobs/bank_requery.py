"""Sweeper: instructions without a result 30 minutes after sending are asked for; those
that never left are sent again with the same id (before the cutoff)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.bank import sending
from app.jobcontext import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    if ctx.gateway is None:
        return {"skipped": "no bank gateway"}
    return {"results": sending.requery_due(ctx)}
