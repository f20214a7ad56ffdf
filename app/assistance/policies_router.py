"""The stored assistance policy (SPEC-ASSISTANCE A4, A6, A8): reference data, written by
operators and admins as the fund ledgers' policy versions are; staff read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.assistance import policies
from app.assistance.policy_models import AssistancePolicyVersion
from app.assistance.policy_schemas import AssistancePolicyIn, AssistancePolicyOut
from app.auth.deps import ReferenceData, Staff
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)


def policy_out(row: AssistancePolicyVersion) -> AssistancePolicyOut:
    return AssistancePolicyOut.model_validate(
        {**row.content, "created_at": row.created_at, "created_by": row.created_by}
    )


@router.post("/policies", status_code=201)
def create_policy(
    body: AssistancePolicyIn,
    actor: ReferenceData,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> AssistancePolicyOut:
    """A version of a region's assistance policy from its `effective_from`: 201 created,
    200 the same content again, 409 other content for the same region and date."""
    with session.begin():
        row, created = policies.create(session, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return policy_out(row)


@router.get("/policies")
def list_policies(
    principal: Staff,
    session: SessionDep,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
) -> list[AssistancePolicyOut]:
    """Every version (of one region), by region and effective_from."""
    return [policy_out(row) for row in policies.versions(session, region)]
