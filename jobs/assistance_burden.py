"""06:10 every day: the burden reminder (综合减负提醒, SPEC-ASSISTANCE A8): every person-year
of the current year whose self-paid cost exceeds the line gets its one alert (a first cut:
the whole year, set-based, rather than only the person-years changed since the last run)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.assistance import burden
from app.db import transaction
from app.jobcontext import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        return burden.remind(session, business_date.year, on=business_date, now=ctx.clock.now())
