"""The three-flow check's report and the small pieces every check shares (moved out of
app/threeflow/service.py as they were)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, true

APPROVED = ("APPROVED", "PAID", "FAILED", "RETURNED", "SETTLED", "RECEIVABLE")


AWAITING = ("QUEUED", "ACCEPTED", "UNKNOWN")


PAID = ("SUCCESS", "RETURNED")


DIFFERENCES_MAX = 1000  # listed; the count says how many there were


@dataclass(frozen=True)
class Difference:
    check: str
    region_code: str
    insutype: str
    fixmedins_code: str | None
    document: str
    detail: str


@dataclass
class Report:
    date_from: date | None
    date_to: date | None
    counts: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return self.difference_count == 0

    def add(self, difference: Difference) -> None:
        self.difference_count += 1
        if len(self.differences) < DIFFERENCES_MAX:
            self.differences.append(difference)


def _between(column: Any, date_from: date | None, date_to: date | None) -> Any:
    conditions = []
    if date_from is not None:
        conditions.append(column >= date_from)
    if date_to is not None:
        conditions.append(column <= date_to)
    return and_(true(), *conditions)


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)
