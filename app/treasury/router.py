from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app import xlsx
from app.auth.deps import Accountant, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.institutions import service as institutions
from app.institutions.schemas import FundInsutype
from app.money import YuanOut, YuanPositive
from app.treasury import funds, service
from app.treasury.models import Appropriation, FundingRequest

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["treasury"])


class AppropriationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: YuanPositive
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


class AppropriationOut(BaseModel):
    region_code: str
    insutype: str
    amount: YuanOut
    reference: str
    recorded_at: datetime
    recorded_by: str
    entry_id: int


def _out(row: Appropriation) -> AppropriationOut:
    return AppropriationOut(
        region_code=row.region_code,
        insutype=row.insutype,
        amount=row.amount_fen,
        reference=row.reference,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        entry_id=row.entry_id,
    )


@router.post("/fund-ledgers/{region_code}/{insutype}/appropriations", status_code=201)
def appropriate(
    region_code: str,
    insutype: FundInsutype,
    body: AppropriationIn,
    actor: Accountant,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> AppropriationOut:
    """Money put into the expenditure account (基金划入); idempotent on the reference."""
    with session.begin():
        row, created = service.appropriate(
            session,
            region_code=region_code,
            insutype=insutype,
            amount_fen=body.amount,
            reference=body.reference,
            actor=actor,
            now=clock.now(),
        )
        if not created:
            response.status_code = 200
        return _out(row)


@router.get("/fund-ledgers/{region_code}/{insutype}/appropriations")
def list_appropriations(
    region_code: str, insutype: FundInsutype, _: Staff, session: SessionDep
) -> list[AppropriationOut]:
    return [_out(row) for row in service.list_appropriations(session, region_code, insutype)]


# --- funding requests (用款计划) ------------------------------------------------------------


class FundingRequestOut(BaseModel):
    region_code: str
    insutype: str
    request_date: date
    mode: str
    due: YuanOut
    available: YuanOut
    shortfall: YuanOut
    payments: int
    held: bool
    status: str
    created_at: datetime
    updated_at: datetime
    covered_at: datetime | None


def _request_out(row: FundingRequest) -> FundingRequestOut:
    return FundingRequestOut(
        region_code=row.region_code,
        insutype=row.insutype,
        request_date=row.request_date,
        mode=row.mode,
        due=row.due_fen,
        available=row.available_fen,
        shortfall=row.shortfall_fen,
        payments=row.payments,
        held=row.held,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        covered_at=row.covered_at,
    )


FUNDING_STATUS = Literal["OPEN", "COVERED"]


@router.get("/funding-requests")
def list_funding_requests(
    _: Staff,
    session: SessionDep,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    insutype: Literal["310", "390"] | None = None,
    status: FUNDING_STATUS | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[FundingRequestOut]:
    """The funding requests the funds check raised: the amount needed per fund ledger and
    submission day (at most 1,000, oldest first)."""
    rows = funds.list_requests(
        session,
        region_code=region_code,
        insutype=insutype,
        status=status,
        first=first,
        last=last,
    )
    return [_request_out(row) for row in rows]


@router.get("/funding-requests/export.xlsx", response_class=StreamingResponse)
def funding_requests_xlsx(
    _: Staff,
    session: SessionDep,
    clock: ClockDep,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    insutype: Literal["310", "390"] | None = None,
    status: FUNDING_STATUS | None = None,
    first: date | None = None,
    last: date | None = None,
) -> StreamingResponse:
    """The funding requests as the 用款计划 XLSX."""
    rows = funds.list_requests(
        session,
        region_code=region_code,
        insutype=insutype,
        status=status,
        first=first,
        last=last,
    )
    names = institutions.region_names(session)
    sheet = xlsx.Sheet(
        name="用款计划",
        title="医保基金用款计划",
        columns=[
            xlsx.Column("统筹区"),
            xlsx.Column("险种"),
            xlsx.Column("用款日期", xlsx.Kind.DATE),
            xlsx.Column("待拨付笔数", xlsx.Kind.COUNT),
            xlsx.Column("待拨付金额", xlsx.Kind.MONEY),
            xlsx.Column("支出户可用余额", xlsx.Kind.MONEY, total=False),
            xlsx.Column("需划入金额", xlsx.Kind.MONEY),
            xlsx.Column("控制方式"),
            xlsx.Column("状态"),
        ],
        rows=[
            (
                f"{names.get(row.region_code, row.region_code)}（{row.region_code}）",
                xlsx.insutype_name(row.insutype),
                row.request_date,
                row.payments,
                row.due_fen,
                row.available_fen,
                row.shortfall_fen,
                "暂缓支付" if row.held else ("拦截" if row.mode == "block" else "预警"),
                "已补足" if row.status == "COVERED" else "待划入",
            )
            for row in rows
        ],
    )
    book = xlsx.workbook([sheet], generated_at=clock.now())
    return xlsx.response(book, "funding-requests.xlsx")
