"""06:00 every day, after the bank's close: the previous day's end-of-day statement of every
expenditure account (a working day's; docs/bank-statements.md), stored and reconciled."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.bankrecon import fetching
from app.jobcontext import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    if ctx.gateway is None:
        return {"skipped": "no bank gateway"}
    return fetching.fetch_day(ctx, business_date)
