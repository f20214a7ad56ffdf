"""Reports of the daily side: the month-start summary (SPEC §3.8)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app import xlsx
from app.auth.deps import Staff
from app.daily import service
from app.deps import SessionDep
from app.http import StrictJSONRoute
from app.money import YuanOut, yuan

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
def daily_payments_xlsx(month: Month, _: Staff, session: SessionDep) -> StreamingResponse:
    rows = service.month_summary(session, month)
    book = xlsx.workbook(
        [
            (
                f"日拨付汇总 {month}",
                ("统筹区", "险种", "定点医药机构编号", "拨付日期", "笔数", "金额"),
                (
                    [
                        r.region_code,
                        r.insutype,
                        r.fixmedins_code,
                        r.pay_date.isoformat(),
                        r.payments,
                        yuan(r.amount_fen),
                    ]
                    for r in rows
                ),
            )
        ]
    )
    return xlsx.response(book, f"daily-payments-{month}.xlsx")
