"""03:00 on working days: the yearly prepayment of each assistance fund (SPEC-ASSISTANCE A8),
computed on the first working day on or after the policy's prepayment day (idempotent per
region and year: later runs find it computed)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.assistance import prepayments
from app.auth.principal import SYSTEM
from app.db import transaction
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.jobcontext import JobContext
from app.workdays import service as workdays


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        fund_ids = [fund.id for fund in institutions.list_fund_ledgers(session, insutypes=("610",))]
    computed: dict[str, str] = {}
    for fund_id in fund_ids:  # one transaction per fund ledger
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            calendar = workdays.load(session)
            row = prepayments.compute_due(
                session,
                fund,
                today=business_date,
                is_working=calendar.is_working,
                actor=SYSTEM,
                now=ctx.clock.now(),
            )
            if row is not None:
                computed[fund.key] = f"{row.year}:{row.status}"
    return {"prepayments": computed}
