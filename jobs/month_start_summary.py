"""08:00 every day: on the 5th (or the first working day after it) the summary of last
month's successful daily payments by payment date (SPEC §3.8)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.clock import period_add, period_of
from app.daily import service as daily
from app.db import transaction
from app.jobcontext import JobContext
from app.workdays import service as workdays

SUMMARY_DAY = 5


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        due = workdays.load(session).on_or_after(business_date.replace(day=SUMMARY_DAY))
        if business_date != due:
            return {"due": due.isoformat()}
        month = period_add(period_of(business_date), -1)
        rows = daily.compile_month_summary(session, month, now=ctx.clock.now())
    return {"month": month, "rows": rows}
