"""00:00 every day: deadline alerts (calendar confirmation, late documents), raised once
while late and resolved once the document caught up."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.alerts import service as alerts
from app.annual import service as annual
from app.db import transaction
from app.jobcontext import JobContext
from app.monthly import statements
from app.workdays import service as workdays

# Raised here each day while their condition holds, resolved here once it is gone.
DEADLINE_KINDS = (
    "statement_not_computed",
    "statement_not_confirmed",
    "statement_not_paid",
    "clearing_unpaid",
    "clearing_not_done",
)


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    raised: dict[str, Any] = {}
    now = ctx.clock.now()
    with transaction(ctx.session_factory) as session:
        raised["calendar_unconfirmed"] = workdays.check_next_year_confirmed(
            session, today=business_date, now=now
        )
        found = statements.overdue(session, today=business_date, calendar=workdays.load(session))
        found += annual.unfinished_after_deadline(session, today=business_date)
        for kind, subject, detail in found:
            alerts.raise_alert(session, kind=kind, subject=subject, detail=detail, now=now)
        raised["overdue"] = len(found)
        raised["resolved"] = alerts.resolve_absent(
            session,
            kinds=DEADLINE_KINDS,
            present={(kind, subject) for kind, subject, _ in found},
            now=now,
        )
    return raised
