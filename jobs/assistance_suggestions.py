"""06:00 every day: the real-time clearing suggestions (实时清算提示, SPEC-ASSISTANCE A7) of
each assistance fund's region, refreshed in one transaction per region. Nothing clears."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.assistance import suggestions
from app.db import transaction
from app.institutions import service as institutions
from app.jobcontext import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    del business_date  # a refresh is as of now, whatever the day
    with transaction(ctx.session_factory) as session:
        regions = sorted(
            {
                fund.region_code
                for fund in institutions.list_fund_ledgers(session, insutypes=("610",))
            }
        )
    found: dict[str, int] = {}
    for region in regions:  # one transaction per region
        with transaction(ctx.session_factory) as session:
            found[region] = len(suggestions.refresh(session, region, now=ctx.clock.now()))
    return {"suggestions": found}
