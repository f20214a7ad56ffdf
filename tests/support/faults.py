"""What the fault tests compare: a run with faults against the same run without.

`outcome()` is the scenario result (SCENARIOS.md, app/scenarios/result.py), its alerts
without their moments, plus what shows a half-written step or a double posting: ledger
entries per kind, instructions and settlements per status, statements per status.
`problems()` lists what `fundledger ledger verify` would print, and any key twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bank.models import BankEvent, PaymentInstruction
from app.daily.models import DailyBatch, DailyLine
from app.ledger import service as ledger
from app.ledger.models import JournalEntry
from app.monthly.models import MonthlyStatement
from app.scenarios import result as results
from app.scenarios.model import Scenario
from app.settlements.models import Settlement


def _counts(session: Session, column: Any) -> dict[str, int]:
    return {
        str(k): int(n) for k, n in session.execute(select(column, func.count()).group_by(column))
    }


def outcome(session: Session, scenario: Scenario) -> dict[str, Any]:
    result = results.build(session, scenario, [])
    # alerts without their moment (a fault moves it); a contradiction or a conflicting
    # callback would be one more
    result["alerts"] = sorted((a["kind"], a["subject"]) for a in result["alerts"])
    result.pop("rejected_events")
    result["entries_by_kind"] = _counts(session, JournalEntry.kind)
    result["instructions"] = sorted(
        (i, k, a, s)
        for i, k, a, s in session.execute(
            select(
                PaymentInstruction.instruction_id,
                PaymentInstruction.kind,
                PaymentInstruction.amount_fen,
                PaymentInstruction.status,
            )
        )
    )
    result["settlements"] = int(session.scalar(select(func.count()).select_from(Settlement)) or 0)
    result["batches"] = _counts(session, DailyBatch.status)
    result["lines_sent"] = int(
        session.scalar(
            select(func.count()).select_from(DailyLine).where(DailyLine.instruction_id.is_not(None))
        )
        or 0
    )
    result["statements"] = _counts(session, MonthlyStatement.status)
    return result


def problems(session: Session) -> list[str]:
    """`ledger verify` (balances, hash chains, trial balance, snapshots), callbacks stored but
    never answered."""
    report = ledger.verify(session)
    found = [
        f"BALANCE {code}: {stored} != {computed}"
        for code, stored, computed in report.balance_mismatches
    ]
    found += [f"CHAIN {fund} entry {entry}: {why}" for fund, entry, why in report.chain_breaks]
    if report.trial_balance_fen:
        found.append(f"TRIAL BALANCE off by {report.trial_balance_fen}")
    found += [f"SNAPSHOT {problem}" for problem in report.snapshots.problems]
    # Posted twice: an idempotency key cannot repeat (unique in the database); the same
    # movement posted under another key shows in the count of entries per kind
    # compared with the run without faults (outcome).
    unanswered = session.scalars(select(BankEvent.event_id).where(BankEvent.http_status == 0))
    found += [f"callback stored, never applied: {event_id}" for event_id in unanswered]
    return found


def differences(got: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    return [
        f"{key}: {got.get(key)!r}\n   without faults: {expected.get(key)!r}"
        for key in sorted(set(got) | set(expected))
        if got.get(key) != expected.get(key)
    ]
