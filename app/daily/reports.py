"""Reports of the daily side: the month-start summary (SPEC §3.8)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app import xlsx
from app.auth.deps import Staff
from app.daily import export, service
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.money import YuanOut

router = APIRouter(prefix="/api/v1/reports", route_class=StrictJSONRoute, tags=["reports"])
Month = Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


class SummaryRow(BaseModel):
    region_code: str
    insutype: str
    fixmedins_code: str
    pay_date: date
    payments: int
    amount: YuanOut


@router.get("/daily-payments/{month}")
def daily_payments(month: Month, _: Staff, session: SessionDep) -> list[SummaryRow]:
    """Last month's successful daily payments by payment date (compiled on the 5th)."""
    return [
        SummaryRow(
            region_code=r.region_code,
            insutype=r.insutype,
            fixmedins_code=r.fixmedins_code,
            pay_date=r.pay_date,
            payments=r.payments,
            amount=r.amount_fen,
        )
        for r in service.month_summary(session, month)
    ]


@router.get("/daily-payments/{month}/export.xlsx", response_class=StreamingResponse)
def daily_payments_xlsx(
    month: Month, _: Staff, session: SessionDep, clock: ClockDep
) -> StreamingResponse:
    """The month-start summary as XLSX: per institution and payment date, with totals."""
    rows = service.month_summary(session, month)
    book = export.month_summary_workbook(session, month, rows, now=clock.now())
    return xlsx.response(book, f"daily-payments-{month}.xlsx")
