"""The month-start summary against daily_paid (the tie), as JSON and XLSX (moved out of
app/compliance/router.py as they were; app/compliance/router.py includes this router, so the
paths and their order are as before)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app import xlsx
from app.auth.deps import Reader
from app.compliance import rules, service
from app.compliance.params import CodeQuery, InsutypeQuery, Month, RegionQuery, _scope
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.institutions import service as institutions
from app.money import YuanOut

# --- the month-start summary against daily_paid --------------------------------------------

# Included by app/compliance/router.py, which gives the prefix and the tags.
router = APIRouter(route_class=StrictJSONRoute)


class TieRowOut(BaseModel):
    region_code: str
    insutype: str
    fixmedins_code: str
    summary: YuanOut
    daily_paid: YuanOut
    difference: YuanOut
    statement_computed: bool


class TieItemOut(BaseModel):
    region_code: str
    insutype: str
    fixmedins_code: str
    setl_id: str | None
    period: str | None
    paid_on: date | None
    instruction_id: str | None
    amount: YuanOut
    reason: str
    reason_text: str


class TieOut(BaseModel):
    month: str
    rows: list[TieRowOut]
    differences: list[TieItemOut]


@router.get("/daily-paid-tie/{month}")
def daily_paid_tie(
    month: Month,
    principal: Reader,
    session: SessionDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> TieOut:
    """The month-start summary of the month (successful daily payments by payment date)
    against the statements' daily_paid of the same period (by settlement period), per
    institution, with every settlement counted on one side only and its reason; the amounts
    of an institution's differences add up to summary − daily_paid."""
    rows, items = service.daily_paid_tie(
        session, month, _scope(principal, region_code, insutype, fixmedins_code)
    )
    return TieOut(
        month=month,
        rows=[
            TieRowOut(
                region_code=row.region_code,
                insutype=row.insutype,
                fixmedins_code=row.fixmedins_code,
                summary=row.summary_fen,
                daily_paid=row.daily_paid_fen,
                difference=row.difference_fen,
                statement_computed=row.statement,
            )
            for row in rows
        ],
        differences=[
            TieItemOut(
                region_code=item.region_code,
                insutype=item.insutype,
                fixmedins_code=item.fixmedins_code,
                setl_id=item.setl_id,
                period=item.period,
                paid_on=item.paid_on,
                instruction_id=item.instruction_id,
                amount=item.amount_fen,
                reason=item.reason,
                reason_text=rules.REASONS[item.reason],
            )
            for item in items
        ],
    )


@router.get("/daily-paid-tie/{month}/export.xlsx", response_class=StreamingResponse)
def daily_paid_tie_xlsx(
    month: Month,
    principal: Reader,
    session: SessionDep,
    clock: ClockDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> StreamingResponse:
    rows, items = service.daily_paid_tie(
        session, month, _scope(principal, region_code, insutype, fixmedins_code)
    )
    names = institutions.institution_names(session, [row.fixmedins_code for row in rows])
    tie = xlsx.Sheet(
        name="汇总与日拨付已付核对",
        title=f"{month} 月初汇总与月度结算日拨付已付核对",
        columns=[
            xlsx.Column("机构编码"),
            xlsx.Column("机构名称"),
            xlsx.Column("险种"),
            xlsx.Column("月初汇总（按支付日）", xlsx.Kind.MONEY),
            xlsx.Column("日拨付已付（按结算期）", xlsx.Kind.MONEY),
            xlsx.Column("差额", xlsx.Kind.MONEY),
        ],
        rows=[
            (
                row.fixmedins_code,
                names.get(row.fixmedins_code, ""),
                xlsx.insutype_name(row.insutype),
                row.summary_fen,
                row.daily_paid_fen,
                row.difference_fen,
            )
            for row in rows
        ],
    )
    differences = xlsx.Sheet(
        name="差异明细",
        title=f"{month} 差异明细（按结算记录与原因）",
        columns=[
            xlsx.Column("机构编码"),
            xlsx.Column("险种"),
            xlsx.Column("结算编号"),
            xlsx.Column("结算期"),
            xlsx.Column("支付日", xlsx.Kind.DATE),
            xlsx.Column("支付指令"),
            xlsx.Column("差额影响", xlsx.Kind.MONEY),
            xlsx.Column("原因"),
        ],
        rows=[
            (
                item.fixmedins_code,
                xlsx.insutype_name(item.insutype),
                item.setl_id or "",
                item.period or "",
                item.paid_on,
                item.instruction_id or "",
                item.amount_fen,
                rules.REASONS[item.reason],
            )
            for item in items
        ],
    )
    return xlsx.response(
        xlsx.workbook([tie, differences], generated_at=clock.now()),
        f"daily-paid-tie-{month}.xlsx",
    )
