"""00:00 every day: deadline alerts (calendar confirmation, late documents)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.db import transaction
from app.workdays import service as workdays
from jobs.context import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    raised: dict[str, Any] = {}
    with transaction(ctx.session_factory) as session:
        raised["calendar_unconfirmed"] = workdays.check_next_year_confirmed(
            session, today=business_date, now=ctx.clock.now()
        )
    return raised
