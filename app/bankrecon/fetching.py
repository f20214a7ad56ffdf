"""Fetching bank statements (docs/bank-statements.md): after the bank's close, each
expenditure account's statement of the day, asked of the bank and received like an upload;
one the bank does not deliver is an alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts import service as alerts
from app.bank.protocol import StatementOutcome
from app.bankrecon.schemas import StatementIn
from app.bankrecon.service import MISSING_KIND, missing_subject, receive
from app.db import transaction
from app.errors import Invalid
from app.institutions.models import FundLedger
from app.jobcontext import JobContext
from app.workdays import service as workdays


@dataclass(frozen=True)
class FetchOutcome:
    account: str
    outcome: str  # stored | known | absent | not_ready | invalid
    statement_id: int | None = None
    status: str | None = None


def accounts(session: Session) -> list[tuple[str, str, str]]:
    """(expenditure account, region, insutype) of every fund ledger."""
    return [
        (a, r, t)
        for a, r, t in session.execute(
            select(
                FundLedger.expenditure_account, FundLedger.region_code, FundLedger.insutype
            ).order_by(FundLedger.region_code, FundLedger.insutype)
        )
    ]


def receive_fetched(
    session: Session, body: dict[str, Any] | None, *, account: str, now: datetime
) -> FetchOutcome:
    """Store what the bank sent; a statement that breaks the format or does not add up is
    an alert (nothing stored)."""
    try:
        statement = StatementIn.model_validate(body)
        if statement.account != account:
            raise ValueError("another account's statement")
        row, created = receive(session, statement, source="fetch", actor="bank", now=now)
    except (ValidationError, ValueError, Invalid) as error:
        alerts.raise_alert(
            session,
            kind="bank_statement_invalid",
            subject=f"{account}:{(body or {}).get('statement_date')}",
            detail=f"银行对账单无法读取: {str(error)[:300]}",
            now=now,
        )
        return FetchOutcome(account, "invalid")
    return FetchOutcome(account, "stored" if created else "known", row.id, row.status)


def fetch_day(ctx: JobContext, day: date) -> dict[str, Any]:
    """After the bank's close: the statement of `day` of every expenditure account, one
    transaction per account (the bank's answer is read outside any transaction)."""
    with transaction(ctx.session_factory) as session:
        if not workdays.load(session).is_working(day):
            return {"working_day": False}
        wanted = accounts(session)
    gateway = ctx.gateway
    assert gateway is not None, "the statement job runs only with a bank gateway"
    outcomes: dict[str, str] = {}
    for account, _region, _insutype in wanted:
        result = gateway.statement(account, day.isoformat())
        if result.outcome != StatementOutcome.FOUND:
            # A working day's statement the bank did not deliver: said, not skipped (the
            # job is done for the day; the statement is uploaded or fetched again by hand).
            with transaction(ctx.session_factory) as session:
                alerts.raise_alert(
                    session,
                    kind=MISSING_KIND,
                    subject=missing_subject(account, day),
                    detail=f"银行未提供 {account} {day} 的对账单（{result.outcome}）："
                    "请向银行索取后上传，或再次运行 bank_statement 任务",
                    now=ctx.clock.now(),
                )
            outcomes[account] = result.outcome
            continue
        with transaction(ctx.session_factory) as session:
            done = receive_fetched(session, result.body, account=account, now=ctx.clock.now())
        outcomes[account] = done.outcome if done.status is None else done.status
    return {"statements": outcomes}
