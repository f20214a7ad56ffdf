"""The care grant's part of the stored assistance policy (SPEC-ASSISTANCE A6, A10 "Care
grant"): the default amount and the listed diseases of the version in force on a day in the
region (`app.assistance.policies`). Without a version in force: 5,000.00, any disease."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.assistance import policies

CARE_GRANT_DEFAULT_FEN = 500_000  # 5,000.00 (Changzhi 大病关怀救助)


def care_grant_default(session: Session, region_code: str, day: date) -> int:
    """The care grant's amount when the event gives none: the policy's `care_grant`."""
    policy = policies.policy_on(session, region_code, day)
    return CARE_GRANT_DEFAULT_FEN if policy is None else policy.care_grant_fen


def care_grant_diseases(session: Session, region_code: str, day: date) -> frozenset[str]:
    """The diseases the policy in force lists for the care grant; empty = any disease."""
    policy = policies.policy_on(session, region_code, day)
    return frozenset() if policy is None else policy.care_grant_diseases
