"""14:30 on working days: approved payments due today go to the bank (SPEC §3.6, §4), under
the funds check of each fund ledger (docs/rules.md "Funds check"); then the assistance
fund's documents, one by one in approval order under its own funds check (SPEC-ASSISTANCE
A8, A10)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app import failpoints
from app.alerts import service as alerts
from app.bank import sending
from app.daily import service as daily
from app.db import transaction
from app.institutions import service as institutions
from app.institutions.models import FundLedger
from app.institutions.rules import Policy, submission_open
from app.jobcontext import JobContext
from app.treasury import funds
from app.wiring import ASSISTANCE_PAYABLES, PAYABLES

ASSISTANCE_INSUTYPES = ("610",)


def run(ctx: JobContext, business_date: date) -> dict[str, Any]:
    now = ctx.clock.now()
    with transaction(ctx.session_factory) as session:
        fund_ids = [fund.id for fund in institutions.list_fund_ledgers(session)]
        assistance_ids = [
            fund.id
            for fund in institutions.list_fund_ledgers(session, insutypes=ASSISTANCE_INSUTYPES)
        ]
    queued: list[str] = []
    late: list[str] = []
    short: dict[str, dict[str, Any]] = {}
    for fund_id in fund_ids:
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            policy = _open_policy(session, fund, business_date, now, late)
            if policy is None:
                continue

            def submit(session: Any = session, fund: FundLedger = fund) -> list[str]:
                return daily.submit_due(
                    session, fund, today=business_date, now=now
                ) + _other_payments(session, fund, business_date, now)

            ids, check = funds.submit_checked(
                session, fund, policy, submit, today=business_date, now=now
            )
            queued += ids
            if check.short:
                short[fund.key] = {"shortfall_fen": check.shortfall_fen, "held": check.hold}
            failpoints.hit("submission.before_commit")
    for fund_id in assistance_ids:
        with transaction(ctx.session_factory) as session:
            fund = session.get(FundLedger, fund_id)
            assert fund is not None
            if _open_policy(session, fund, business_date, now, late) is None:
                continue
            ids, selection = funds.submit_in_order(
                session, fund, ASSISTANCE_PAYABLES, today=business_date, now=now
            )
            queued += ids
            if selection.waiting:
                short[fund.key] = {
                    "shortfall_fen": selection.shortfall_fen,
                    "held": True,
                    "waiting": len(selection.waiting),
                }
            failpoints.hit("submission.before_commit")
    failpoints.hit("submission.after_commit")
    sent = sending.send_queued(ctx, queued) if ctx.gateway is not None else {}
    return {"queued": queued, "sent": sent, "after_cutoff": late, "funds_short": short}


def _open_policy(
    session: Session, fund: FundLedger, business_date: date, now: datetime, late: list[str]
) -> Policy | None:
    """The fund ledger's policy when it is switched on and its cut-off has not passed; after
    the cut-off nothing is sent (it waits for the next working day), with an alert."""
    policy = institutions.policy_on(session, fund.id, business_date)
    if policy is None:
        return None
    if not submission_open(policy, now):
        alerts.raise_alert(
            session,
            kind="submission_after_cutoff",
            subject=f"{fund.key}:{business_date}",
            detail=f"submission ran after the {policy.cutoff_time:%H:%M} cutoff; "
            "payments wait for the next working day",
            now=now,
        )
        late.append(fund.key)
        return None
    return policy


def _other_payments(session: Any, fund: FundLedger, today: date, now: Any) -> list[str]:
    """The payable documents approved for payment (monthly statements, annual clearings)."""
    ids: list[str] = []
    for flow in PAYABLES:
        ids += flow.submit_due(session, fund, today=today, now=now)
    return ids
