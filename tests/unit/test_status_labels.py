"""Every status of the settlement, daily and scheduling enums has its Chinese label in the
console (app/console/statuses.py is keyed by the enums)."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from app.console import statuses
from app.daily.rules import BatchStatus, LineStatus
from app.scheduling.rules import Outcome, RunStatus
from app.settlements.rules import DayReconciliation, ReconciliationStatus, SettlementStatus

ENUMS: list[tuple[type[StrEnum], str | None]] = [
    (SettlementStatus, None),
    (ReconciliationStatus, None),
    (DayReconciliation, None),
    (BatchStatus, None),
    (LineStatus, None),
    (RunStatus, "job"),
    (Outcome, "job"),
]


@pytest.mark.parametrize(("status", "kind"), ENUMS, ids=[e.__name__ for e, _ in ENUMS])
def test_every_member_has_a_chinese_label(status: type[StrEnum], kind: str | None) -> None:
    for member in status:
        assert member in statuses.LABELS or member in statuses.BY_KIND.get(kind or "", {}), member
        text, colour = statuses.label(member, kind)
        assert re.search(r"[\u4e00-\u9fff]", text), f"{status.__name__}.{member.name}"
        assert colour in statuses.COLOURS
        assert statuses.label(member.value, kind) == (text, colour)  # a stored string too


def test_a_job_run_failure_reads_as_the_run_failing() -> None:
    assert statuses.label(RunStatus.FAILED, "job") == ("运行失败", statuses.RED)
    assert statuses.label(LineStatus.FAILED) == ("失败", statuses.RED)
