"""Deadline reports (定期调度) and the month-start summary tie, as JSON and XLSX. Staff read
every institution; a hospital reads its own (its code is the scope, whatever it asks)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from app import xlsx
from app.auth.deps import Reader
from app.compliance import rules, service, tie
from app.compliance.params import CodeQuery, InsutypeQuery, Month, RegionQuery, Year, _scope
from app.compliance.service import Scope
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.institutions import service as institutions
from app.money import RatioOut, YuanOut

router = APIRouter(prefix="/api/v1/reports", route_class=StrictJSONRoute, tags=["reports"])

OUTCOMES = {rules.ON_TIME: "按期", rules.LATE: "逾期", rules.UNPAID: "未完成"}


# --- T+1 -----------------------------------------------------------------------------------


class T1Out(BaseModel):
    region_code: str
    insutype: str
    month: str
    settlements: int
    on_time: int
    late: int
    unpaid: int
    share_on_time: RatioOut | None
    amount: YuanOut
    amount_on_time: YuanOut


def _t1(session: SessionDep, month: str, found: Scope) -> list[T1Out]:
    return [
        T1Out(
            region_code=row.region_code,
            insutype=row.insutype,
            month=row.month,
            settlements=row.tally.total,
            on_time=row.tally.on_time,
            late=row.tally.late,
            unpaid=row.tally.unpaid,
            share_on_time=row.tally.share_bp,
            amount=row.tally.amount_fen,
            amount_on_time=row.tally.on_time_fen,
        )
        for row in service.t1_compliance(session, month, found)
    ]


@router.get("/t1-compliance/{month}")
def t1_compliance(
    month: Month,
    principal: Reader,
    session: SessionDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> list[T1Out]:
    """T+1 compliance per fund ledger: of the settlements dated in the month with a daily
    amount, how many were paid on their T+1 pay date (the first working day after the
    settlement date), later, or not (yet) paid."""
    return _t1(session, month, _scope(principal, region_code, insutype, fixmedins_code))


@router.get("/t1-compliance/{month}/export.xlsx", response_class=StreamingResponse)
def t1_compliance_xlsx(
    month: Month,
    principal: Reader,
    session: SessionDep,
    clock: ClockDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> StreamingResponse:
    found = _scope(principal, region_code, insutype, fixmedins_code)
    rows = service.t1_compliance(session, month, found)
    names = institutions.region_names(session)
    sheet = xlsx.Sheet(
        name="T+1拨付时效",
        title=f"{month} 日拨付 T+1 时效统计",
        columns=[
            xlsx.Column("统筹区"),
            xlsx.Column("险种"),
            xlsx.Column("结算笔数", xlsx.Kind.COUNT),
            xlsx.Column("T+1 按期支付", xlsx.Kind.COUNT),
            xlsx.Column("逾期支付", xlsx.Kind.COUNT),
            xlsx.Column("未支付", xlsx.Kind.COUNT),
            xlsx.Column("按期率"),
            xlsx.Column("日拨付金额", xlsx.Kind.MONEY),
            xlsx.Column("按期支付金额", xlsx.Kind.MONEY),
        ],
        rows=[
            (
                f"{names.get(row.region_code, row.region_code)}（{row.region_code}）",
                xlsx.insutype_name(row.insutype),
                row.tally.total,
                row.tally.on_time,
                row.tally.late,
                row.tally.unpaid,
                _percent(row.tally.share_bp),
                row.tally.amount_fen,
                row.tally.on_time_fen,
            )
            for row in rows
        ],
        notes=[
            f"口径：{month} 结算日期的结算；支付日 = 成功指令的提交日；T+1 = 结算日后第一个工作日"
        ],
    )
    return xlsx.response(
        xlsx.workbook([sheet], generated_at=clock.now()), f"t1-compliance-{month}.xlsx"
    )


def _percent(share_bp: int | None) -> str:
    return "—" if share_bp is None else f"{share_bp / 100:.2f}%"


# --- monthly -------------------------------------------------------------------------------


class MonthlyOut(BaseModel):
    region_code: str
    insutype: str
    fixmedins_code: str
    period: str
    status: str
    net: YuanOut
    computation_date: date
    settlement_deadline: date
    approved_on: date | None
    payment_deadline: date | None
    paid_on: date | None
    within_20_working_days: str
    within_5_working_days: str | None


@router.get("/monthly-compliance/{period}")
def monthly_compliance(
    period: Month,
    principal: Reader,
    session: SessionDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> list[MonthlyOut]:
    """Each statement of the period: paid (or settled) within 20 working days of its
    computation date (the first working day after the declaration deadline), and within 5
    working days of its approval; `on_time`, `late` or `unpaid`."""
    found = _scope(principal, region_code, insutype, fixmedins_code)
    return [
        MonthlyOut(
            region_code=row.region_code,
            insutype=row.insutype,
            fixmedins_code=row.fixmedins_code,
            period=row.period,
            status=row.status,
            net=row.net_fen,
            computation_date=row.computation_date,
            settlement_deadline=row.settlement_deadline,
            approved_on=row.approved_on,
            payment_deadline=row.payment_deadline,
            paid_on=row.paid_on,
            within_20_working_days=row.within_20,
            within_5_working_days=row.within_5,
        )
        for row in service.monthly_compliance(session, period, found)
    ]


@router.get("/monthly-compliance/{period}/export.xlsx", response_class=StreamingResponse)
def monthly_compliance_xlsx(
    period: Month,
    principal: Reader,
    session: SessionDep,
    clock: ClockDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> StreamingResponse:
    found = _scope(principal, region_code, insutype, fixmedins_code)
    rows = service.monthly_compliance(session, period, found)
    names = institutions.institution_names(session, [row.fixmedins_code for row in rows])
    sheet = xlsx.Sheet(
        name="月结算时效",
        title=f"{period} 月度结算时效（20 个工作日结算、审批后 5 个工作日支付）",
        columns=[
            xlsx.Column("机构编码"),
            xlsx.Column("机构名称"),
            xlsx.Column("险种"),
            xlsx.Column("结算净额", xlsx.Kind.MONEY),
            xlsx.Column("状态"),
            xlsx.Column("起算日", xlsx.Kind.DATE),
            xlsx.Column("结算期限", xlsx.Kind.DATE),
            xlsx.Column("审批日", xlsx.Kind.DATE),
            xlsx.Column("支付期限", xlsx.Kind.DATE),
            xlsx.Column("支付日", xlsx.Kind.DATE),
            xlsx.Column("20 个工作日内"),
            xlsx.Column("审批后 5 个工作日内"),
        ],
        rows=[
            (
                row.fixmedins_code,
                names.get(row.fixmedins_code, ""),
                xlsx.insutype_name(row.insutype),
                row.net_fen,
                row.status,
                row.computation_date,
                row.settlement_deadline,
                row.approved_on,
                row.payment_deadline,
                row.paid_on,
                OUTCOMES[row.within_20],
                OUTCOMES[row.within_5] if row.within_5 else "未审批",
            )
            for row in rows
        ],
    )
    return xlsx.response(
        xlsx.workbook([sheet], generated_at=clock.now()), f"monthly-compliance-{period}.xlsx"
    )


# --- annual --------------------------------------------------------------------------------


class AnnualOut(BaseModel):
    region_code: str
    insutype: str
    fixmedins_code: str
    year: int
    status: str
    actual: YuanOut | None
    deadline: date
    done_on: date | None
    outcome: str


@router.get("/annual-compliance/{year}")
def annual_compliance(
    year: Year,
    principal: Reader,
    session: SessionDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> list[AnnualOut]:
    """Each institution with business in the year: its clearing paid (or settled) by the
    year's deadline (31 May by default), late, or not done; `NOT_CLEARED` when it has none."""
    found = _scope(principal, region_code, insutype, fixmedins_code)
    return [
        AnnualOut(
            region_code=row.region_code,
            insutype=row.insutype,
            fixmedins_code=row.fixmedins_code,
            year=row.year,
            status=row.status,
            actual=row.actual_fen,
            deadline=row.deadline,
            done_on=row.done_on,
            outcome=row.outcome,
        )
        for row in service.annual_compliance(session, year, found)
    ]


@router.get("/annual-compliance/{year}/export.xlsx", response_class=StreamingResponse)
def annual_compliance_xlsx(
    year: Year,
    principal: Reader,
    session: SessionDep,
    clock: ClockDep,
    region_code: RegionQuery = None,
    insutype: InsutypeQuery = None,
    fixmedins_code: CodeQuery = None,
) -> StreamingResponse:
    found = _scope(principal, region_code, insutype, fixmedins_code)
    rows = service.annual_compliance(session, year, found)
    names = institutions.institution_names(session, [row.fixmedins_code for row in rows])
    sheet = xlsx.Sheet(
        name="年度清算时效",
        title=f"{year} 年度清算时效",
        columns=[
            xlsx.Column("机构编码"),
            xlsx.Column("机构名称"),
            xlsx.Column("险种"),
            xlsx.Column("状态"),
            xlsx.Column("实际清算金额", xlsx.Kind.MONEY),
            xlsx.Column("期限", xlsx.Kind.DATE),
            xlsx.Column("完成日", xlsx.Kind.DATE),
            xlsx.Column("时效"),
        ],
        rows=[
            (
                row.fixmedins_code,
                names.get(row.fixmedins_code, ""),
                xlsx.insutype_name(row.insutype),
                "未清算" if row.status == service.NOT_CLEARED else row.status,
                row.actual_fen,
                row.deadline,
                row.done_on,
                OUTCOMES[row.outcome],
            )
            for row in rows
        ],
    )
    return xlsx.response(
        xlsx.workbook([sheet], generated_at=clock.now()), f"annual-compliance-{year}.xlsx"
    )


# --- the month-start summary against daily_paid: in tie.py, its paths after these ------------

router.include_router(tie.router)
