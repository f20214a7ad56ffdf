"""The stored assistance policy (SPEC-ASSISTANCE A4, A6, A8): effective-dated versions per
region, idempotent per (region, effective_from), validated into the pure `policy.Policy`.
Flush-only; records its own audit trail."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance.policy import Band, Category, Policy, Rule, Visit, parse_month_day
from app.assistance.policy_models import AssistancePolicyVersion
from app.assistance.policy_schemas import AssistancePolicyIn
from app.auth.principal import Principal
from app.errors import Conflict, DomainError, FieldError, Invalid
from app.institutions.models import Region
from app.trail import service as trail


def _within(prefix: str, error: DomainError) -> Invalid:
    """A pure rule's refusal, its field placed under `prefix` (e.g. categories.dibao.inpatient)."""
    errors = [FieldError(f"{prefix}.{e.field}", e.rule, e.message) for e in error.errors]
    return Invalid(f"{prefix}: {error.detail}", errors=errors)


def to_pure(data: AssistancePolicyIn) -> Policy:
    """The body as the pure policy of policy.py; 422 naming the field otherwise."""
    rules: dict[tuple[Category, Visit], Rule] = {}
    for category_name, visits in data.categories.items():
        try:
            category = Category(category_name)
        except ValueError:
            raise Invalid.field(
                f"categories.{category_name}", "category", f"no category {category_name!r}"
            ) from None
        for visit_name, rule in visits.items():
            where = f"categories.{category_name}.{visit_name}"
            try:
                visit = Visit(visit_name)
            except ValueError:
                raise Invalid.field(where, "visit", f"no visit type {visit_name!r}") from None
            try:
                rules[(category, visit)] = Rule(
                    tuple(Band(from_fen, ratio_bp) for from_fen, ratio_bp in rule.bands),
                    rule.deductible,
                    rule.cap,
                )
            except Invalid as error:
                raise _within(where, error) from None
    return Policy(
        effective_from=data.effective_from,
        rules=rules,
        burden_line_bp=data.burden_line,
        prepayment_rate_bp=data.prepayment_rate,
        prepayment_day=parse_month_day(data.prepayment_day),
        care_grant_fen=data.care_grant,
        care_grant_diseases=frozenset(data.care_grant_diseases),
    )


def canonical(data: AssistancePolicyIn) -> dict[str, Any]:
    return data.model_dump(mode="json")


def _hash(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def create(
    session: Session, data: AssistancePolicyIn, *, actor: Principal, now: datetime
) -> tuple[AssistancePolicyVersion, bool]:
    """Store a version: (row, True) created; (row, False) the same content again; other
    content for the same (region, effective_from) is a Conflict."""
    if session.get(Region, data.region) is None:
        raise Invalid.field("region", "region_exists", f"no region {data.region}")
    to_pure(data)
    content = canonical(data)
    digest = _hash(content)
    existing = session.scalar(
        select(AssistancePolicyVersion).where(
            AssistancePolicyVersion.region_code == data.region,
            AssistancePolicyVersion.effective_from == data.effective_from,
        )
    )
    if existing is not None:
        if existing.content_hash != digest:
            raise Conflict(
                f"the policy of {data.region} from {data.effective_from} exists with other "
                "content; a change is a new version from its own date",
                code="policy-exists",
            )
        return existing, False
    row = AssistancePolicyVersion(
        region_code=data.region,
        effective_from=data.effective_from,
        content=content,
        content_hash=digest,
        created_at=now,
        created_by=actor.name,
    )
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="assistance_policy.create",
        entity="assistance_policy",
        key=f"{data.region}:{data.effective_from}",
        before=None,
        after={**content, "content_hash": digest},
        now=now,
    )
    return row, True


def versions(session: Session, region_code: str | None = None) -> list[AssistancePolicyVersion]:
    query = select(AssistancePolicyVersion).order_by(
        AssistancePolicyVersion.region_code, AssistancePolicyVersion.effective_from
    )
    if region_code is not None:
        query = query.where(AssistancePolicyVersion.region_code == region_code)
    return list(session.scalars(query))


def pure(row: AssistancePolicyVersion) -> Policy:
    return to_pure(AssistancePolicyIn.model_validate(row.content))


def policy_on(session: Session, region_code: str, day: date) -> Policy | None:
    """The region's policy in force on a day (latest effective_from not after it), None
    before its first version."""
    row = session.scalar(
        select(AssistancePolicyVersion)
        .where(
            AssistancePolicyVersion.region_code == region_code,
            AssistancePolicyVersion.effective_from <= day,
        )
        .order_by(AssistancePolicyVersion.effective_from.desc())
        .limit(1)
    )
    return None if row is None else pure(row)
