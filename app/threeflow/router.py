"""The three-flow check (三流核对) on request."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.auth.deps import Staff
from app.deps import SessionDep
from app.errors import Invalid
from app.http import StrictJSONRoute
from app.threeflow import service

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["checks"])


class DifferenceOut(BaseModel):
    check: str
    region_code: str
    insutype: str
    fixmedins_code: str | None
    document: str
    detail: str


class ThreeFlowOut(BaseModel):
    date_from: date | None
    date_to: date | None
    ok: bool
    counts: dict[str, int]
    difference_count: int
    differences: list[DifferenceOut]


@router.get("/checks/three-flow")
def three_flow(
    _: Staff,
    session: SessionDep,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> ThreeFlowOut:
    """Business, fund and information flows agree (三流核对): settlements ↔ daily lines ↔
    instructions ↔ receipts ↔ the bank's statements ↔ the ledger, per fund ledger. Documents
    dated within `from`..`to`; balances as they stand now. `ok` false lists every difference
    (up to 1,000) with its document."""
    if date_from and date_to and date_from > date_to:
        raise Invalid.field("from", "not_after_to", "is after to")
    report = service.check(session, date_from=date_from, date_to=date_to)
    return ThreeFlowOut(
        date_from=report.date_from,
        date_to=report.date_to,
        ok=report.ok,
        counts=report.counts,
        difference_count=report.difference_count,
        differences=[DifferenceOut(**d.__dict__) for d in report.differences],
    )
