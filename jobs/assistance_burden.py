"""06:10 every day: the burden reminder (综合减负提醒, SPEC-ASSISTANCE A8): every person-year
of the current year and of the year before (late uploads, applications for last year's
invoices) whose self-paid cost exceeds the line gets its one alert, resolved once the
person-year's burden relief (综合减负) is recorded. A first cut: the whole of both years,
set-based, rather than only the person-years changed since the last run."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.assistance import burden
from app.db import transaction
from app.jobcontext import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    over = 0
    raised: list[str] = []
    resolved: list[str] = []
    with transaction(ctx.session_factory) as session:
        for year in (business_date.year - 1, business_date.year):
            result = burden.remind(session, year, on=business_date, now=ctx.clock.now())
            over += result.over_line
            raised += result.raised
            resolved += result.resolved
    return {"over_line": over, "raised": raised, "resolved": resolved}
