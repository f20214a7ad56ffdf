"""02:00 every day (from each year's start date): clear the institutions that are ready."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.annual import computation as annual
from app.db import transaction
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.jobcontext import JobContext


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        fund_ids = [fund.id for fund in institutions.list_fund_ledgers(session)]
    cleared: dict[str, int] = {}
    for fund_id in fund_ids:
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            cleared[fund.key] = len(
                annual.compute_due(session, fund, today=business_date, now=ctx.clock.now())
            )
    return {"cleared": cleared}
