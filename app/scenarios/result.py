"""The scenario result (SCENARIOS.md "Result format"), read from the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.annual import service as annual
from app.assistance import claims, clearings, person_reads, prepayments
from app.assistance import statements as assistance_statements
from app.bank.models import PaymentInstruction
from app.clock import SHANGHAI
from app.daily import service as daily
from app.daily.models import DailyBatch, DailyLine
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount, LedgerPosting
from app.money import yuan
from app.monthly import statements
from app.scenarios.model import Scenario


def build(session: Session, scenario: Scenario, rejected: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "daily_lines": daily_lines(session),
        "monthly_statements": monthly_statements(session),
        "annual_clearings": annual_clearings(session),
        "receivables": receivables(session, scenario),
        "rejected_events": sorted(rejected, key=lambda r: r["index"]),
        "alerts": alerts(session),
        "trial_balance": trial_balance(session),
    }
    if scenario.has_assistance:
        result.update(assistance(session))
    return result


def assistance(session: Session) -> dict[str, Any]:
    """The assistance fund's keys (SCENARIOS.md "Assistance")."""
    return {
        "assistance_persons": clearings.scenario_rows_assistance_persons(session),
        "assistance_clearings": clearings.scenario_rows_assistance_clearings(session),
        "assistance_statements": assistance_statements.scenario_rows(session),
        "person_payments": person_reads.scenario_rows_person_payments(session),
        "person_receivables": claims.scenario_rows_person_receivables(session),
        "prepayments": prepayments.scenario_rows(session),
    }


def daily_lines(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(DailyLine, DailyBatch, PaymentInstruction.status)
        .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
        .outerjoin(
            PaymentInstruction, PaymentInstruction.instruction_id == DailyLine.instruction_id
        )
    ).all()
    lines = [
        {
            "business_date": batch.business_date.isoformat(),
            "region": batch.region_code,
            "insutype": batch.insutype,
            "fixmedins_code": line.fixmedins_code,
            "pay_date": batch.pay_date.isoformat(),
            "settlements": line.settlement_count,
            "amount": yuan(line.amount_fen),
            "status": daily.line_status(line, status),
            "late": line.late,
        }
        for line, batch, status in rows
    ]
    return sorted(
        lines, key=lambda x: (x["business_date"], x["region"], x["insutype"], x["fixmedins_code"])
    )


def monthly_statements(session: Session) -> list[dict[str, Any]]:
    return statements.scenario_rows(session)


def annual_clearings(session: Session) -> list[dict[str, Any]]:
    return annual.scenario_rows(session)


def receivables(session: Session, scenario: Scenario) -> list[dict[str, Any]]:
    rows = []
    for institution in scenario.institutions:
        if institution.level < 2:  # out of scope: never paid, no receivable
            continue
        for insutype in institution.insutypes:
            if not any(
                f.region == institution.region and f.insutype == insutype for f in scenario.funds
            ):
                continue
            code = f"receivable:{institution.region}:{insutype}:{institution.code}"
            rows.append(
                {
                    "region": institution.region,
                    "insutype": insutype,
                    "fixmedins_code": institution.code,
                    "balance": yuan(ledger.balance_or_zero(session, code)),
                }
            )
    return sorted(rows, key=lambda r: (r["region"], r["insutype"], r["fixmedins_code"]))


def alerts(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(Alert).order_by(Alert.at, Alert.kind, Alert.subject))
    return [
        {
            "at": alert.at.astimezone(SHANGHAI).isoformat(),
            "kind": alert.kind,
            "subject": alert.subject,
        }
        for alert in rows
    ]


def trial_balance(session: Session) -> dict[str, Any]:
    trial = ledger.trial_balance(session)
    posted = set(
        session.scalars(
            select(LedgerAccount.code).where(
                LedgerAccount.id.in_(select(LedgerPosting.account_id).distinct())
            )
        )
    )
    return {
        "balanced": trial.balanced,
        "debits": yuan(trial.debits_fen),
        "credits": yuan(trial.credits_fen),
        "accounts": [
            {"code": row.code, "balance": yuan(row.balance_fen)}
            for row in trial.accounts
            if row.code in posted
        ],
    }
