"""Where the person-year takes its assistance policy from (SPEC-ASSISTANCE A4: the version in
force on the item's day in the person's region): the stored policy versions
(`app.assistance.policies`), read once per region and answered per day from memory, since the
person-year asks once per distinct item day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from app.assistance import policies
from app.assistance.policy import Policy, policy_in_force


def policy_for_region(session: Session, region_code: str) -> Callable[[date], Policy | None]:
    """The region's assistance policy in force on a day (None: none in force)."""
    versions = [policies.pure(row) for row in policies.versions(session, region_code)]
    return lambda day: policy_in_force(versions, day)
