"""00:30 every calendar day: the daily batch of yesterday for every fund ledger (SPEC §3.3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.daily import service as daily
from app.db import transaction
from app.institutions.models import FundLedger
from app.jobcontext import JobContext
from app.workdays import service as workdays


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        fund_ids = [fund.id for fund in daily.fund_ledgers_switched_on(session, business_date)]
    generated = {}
    for fund_id in fund_ids:  # one transaction per fund ledger
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            batch = daily.generate(
                session, fund, business_date, now=ctx.clock.now(), calendar=workdays.load(session)
            )
            if batch is not None:
                generated[fund.key] = {"batch_id": batch.id, "lines": batch.line_count}
    return {"batches": generated}
