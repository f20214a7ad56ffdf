"""01:00 on working days: compute the declared, due periods (SPEC §4), then the hospitals'
assistance statements of the periods just computed (SPEC-ASSISTANCE A5, A10)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app import failpoints
from app.assistance import statement_computation as assistance
from app.db import transaction
from app.institutions import service as institutions
from app.institutions.models import ASSISTANCE_INSUTYPE, FundLedger
from app.jobcontext import JobContext
from app.monthly import computation
from app.workdays import service as workdays


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    with transaction(ctx.session_factory) as session:
        fund_ids = [fund.id for fund in institutions.list_fund_ledgers(session)]
        assistance_ids = [
            fund.id
            for fund in institutions.list_fund_ledgers(session, insutypes=(ASSISTANCE_INSUTYPE,))
        ]
    computed: dict[str, int] = {}
    for fund_id in fund_ids:  # one transaction per fund ledger
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            ids = computation.compute_due(
                session,
                fund,
                today=business_date,
                now=ctx.clock.now(),
                calendar=workdays.load(session),
            )
            computed[fund.key] = len(ids)
    # The assistance statement of H and P comes the day H's first statement of P does.
    assisted: dict[str, int] = {}
    for fund_id in assistance_ids:  # one transaction per region's 610 fund ledger
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            ids = assistance.compute_due(session, fund, today=business_date, now=ctx.clock.now())
            assisted[fund.key] = len(ids)
    failpoints.hit("monthly.compute.after_commit")
    return {"computed": computed, "assistance": assisted}
