"""The status transition tables of settlements, daily batches and lines, and job runs
(issue 15 item 2): a legal move passes, an illegal one raises, every status is reachable from
the start, and each stored status is the set the database's CHECK constraint allows."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import CheckConstraint

from app.daily import rules as daily_rules
from app.daily.models import DailyBatch
from app.daily.rules import BATCH, LINE, BatchStatus, LineStatus
from app.scheduling.models import JobRun
from app.scheduling.rules import RUN, RunStatus
from app.settlements import rules as settlement_rules
from app.settlements.models import Reconciliation
from app.settlements.rules import SETTLEMENT, ReconciliationStatus, SettlementStatus
from app.states import IllegalTransition, Machine, values

MACHINES: list[tuple[Machine[StrEnum], StrEnum]] = [
    (SETTLEMENT, settlement_rules.SETTLEMENT_START),  # type: ignore[list-item]
    (BATCH, daily_rules.BATCH_START),  # type: ignore[list-item]
    (LINE, daily_rules.LINE_START),  # type: ignore[list-item]
    (RUN, RunStatus.RUNNING),  # type: ignore[list-item]
]
IDS = [machine.what for machine, _ in MACHINES]


def _reachable(machine: Machine[StrEnum], start: StrEnum) -> set[StrEnum]:
    seen = {start}
    todo = [start]
    while todo:
        for target in machine.moves[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize(("machine", "start"), MACHINES, ids=IDS)
def test_every_status_is_reachable_from_the_start(
    machine: Machine[StrEnum], start: StrEnum
) -> None:
    assert _reachable(machine, start) == set(machine.status)


@pytest.mark.parametrize(("machine", "start"), MACHINES, ids=IDS)
def test_every_move_of_the_table_passes_and_every_other_raises(
    machine: Machine[StrEnum], start: StrEnum
) -> None:
    for current in machine.status:
        for new in machine.status:
            if new in machine.moves[current]:
                machine.check(current.value, new.value)  # plain strings, as the rows hold
            else:
                with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
                    machine.check(current.value, new.value)


@pytest.mark.parametrize(
    ("machine", "legal", "illegal"),
    [
        (BATCH, ("PUSHED", "APPROVED"), ("SUBMITTED", "PUSHED")),
        (BATCH, ("REJECTED", "PUSHED"), ("REJECTED", "APPROVED")),
        (BATCH, ("APPROVED", "SUBMITTED"), ("EMPTY", "PUSHED")),
        (LINE, ("PAID", "RETURNED"), ("FAILED", "PAID")),
        (SETTLEMENT, ("batched", "paid"), ("revoked", "accepted")),
        (SETTLEMENT, ("paid", "revoked"), ("accepted", "paid")),
        (RUN, ("FAILED", "RUNNING"), ("FAILED", "SUCCEEDED")),
        (RUN, ("RUNNING", "RUNNING"), ("SUCCEEDED", "FAILED")),
    ],
)
def test_named_moves(
    machine: Machine[StrEnum], legal: tuple[str, str], illegal: tuple[str, str]
) -> None:
    machine.check(*legal)
    assert machine.allows(*legal)
    assert not machine.allows(*illegal)
    with pytest.raises(IllegalTransition):
        machine.check(*illegal)


def test_final_statuses() -> None:
    assert BATCH.final() == {BatchStatus.SUBMITTED, BatchStatus.EMPTY}
    assert LINE.final() == {LineStatus.FAILED, LineStatus.RETURNED}
    assert SETTLEMENT.final() == {SettlementStatus.REVOKED}
    assert RUN.final() == set()


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError):
        BATCH.check("PUSHED", "SENT")


def _constraint_values(model: type) -> tuple[str, ...]:
    for constraint in model.__table__.constraints:  # type: ignore[attr-defined]
        if isinstance(constraint, CheckConstraint) and str(constraint.name).endswith("status"):
            return tuple(re.findall(r"'([A-Z_]+)'", str(constraint.sqltext)))
    raise AssertionError(f"{model.__name__} has no status constraint")


@pytest.mark.parametrize(
    ("model", "status"),
    [(DailyBatch, BatchStatus), (JobRun, RunStatus), (Reconciliation, ReconciliationStatus)],
)
def test_a_stored_status_is_what_the_database_allows(model: type, status: type[StrEnum]) -> None:
    assert _constraint_values(model) == values(status)


@pytest.mark.parametrize(
    ("instruction", "line"),
    [
        (None, LineStatus.NOT_SENT),
        ("QUEUED", LineStatus.PENDING),
        ("ACCEPTED", LineStatus.PENDING),
        ("UNKNOWN", LineStatus.PENDING),
        ("SUCCESS", LineStatus.PAID),
        ("FAILED", LineStatus.FAILED),
        ("RETURNED", LineStatus.RETURNED),
    ],
)
def test_a_line_status_follows_its_instruction(instruction: str | None, line: str) -> None:
    assert daily_rules.line_status(instruction) == line


def test_a_reconciliation_matches_only_without_differences() -> None:
    assert settlement_rules.reconciliation_status(True, []) == ReconciliationStatus.RECONCILED
    assert settlement_rules.reconciliation_status(False, []) == ReconciliationStatus.MISMATCHED
    differences = [{"setl_id": "S1", "issue": "not_held"}]
    assert settlement_rules.reconciliation_status(True, differences) == "MISMATCHED"
