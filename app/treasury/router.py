from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import Accountant, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.money import YuanOut, YuanPositive
from app.treasury import service
from app.treasury.models import Appropriation

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
    insutype: Literal["310", "390"],
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
    region_code: str, insutype: Literal["310", "390"], _: Staff, session: SessionDep
) -> list[AppropriationOut]:
    return [_out(row) for row in service.list_appropriations(session, region_code, insutype)]
