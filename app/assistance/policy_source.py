"""The seam to the stored assistance policy (SPEC-ASSISTANCE A4, A6): what the person side
reads of the region's policy versions — the care grant's default amount and listed diseases,
and the versions an application's marginal amount is computed under.

The stored policy is another piece's (`policy_on(session, region, day)`); until the integrator
points `set_policy_source` at it, no version is known: the care grant defaults to 5,000.00
with any disease, and applications compute under no version (every category pays 0) unless a
caller (the tests) registers a source."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.orm import Session

from app.assistance.policy import Policy, policy_in_force

CARE_GRANT_DEFAULT_FEN = 500_000  # 5,000.00 (Changzhi 大病关怀救助)

PolicySource = Callable[[Session, str], Sequence[Policy]]


def _none(session: Session, region_code: str) -> Sequence[Policy]:
    return ()


_source: list[PolicySource] = [_none]


def set_policy_source(source: PolicySource | None) -> None:
    """The region's policy versions come from `source` (None: back to no version)."""
    _source[0] = source or _none


def policies(session: Session, region_code: str) -> Sequence[Policy]:
    """Every policy version of the region (A4 takes the one in force on each item's day)."""
    return _source[0](session, region_code)


def care_grant_default(session: Session, region_code: str, day: date) -> int:
    """The care grant's amount when the event gives none: the policy's `care_grant` in force
    on `day`, 5,000.00 without one."""
    policy = policy_in_force(policies(session, region_code), day)
    return CARE_GRANT_DEFAULT_FEN if policy is None else policy.care_grant_fen


def care_grant_diseases(session: Session, region_code: str, day: date) -> frozenset[str]:
    """The diseases the policy in force lists for the care grant; empty = any disease."""
    policy = policy_in_force(policies(session, region_code), day)
    return frozenset() if policy is None else policy.care_grant_diseases
