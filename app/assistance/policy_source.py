"""Where the API's person-year takes its assistance policy from (SPEC-ASSISTANCE A4: the
version in force on the item's day in the person's region).

SEAM for the integrator: the stored policy (issue 22, helper `prepay`: its table and
`policy_on(session, region, day)`) is built in parallel. Until it is merged this provider
reads nothing and answers None for every day (no policy: every category pays 0, so every
due is 0.00). At merge, replace the body of `policy_for_region` with a reader of the stored
versions — read the region's versions ONCE (one query), then answer each day from memory
(`policy.policy_in_force(versions, day)`), since the person-year calls the provider once per
distinct item day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from app.assistance.policy import Policy


def policy_for_region(session: Session, region_code: str) -> Callable[[date], Policy | None]:
    """The region's assistance policy in force on a day (None: none in force)."""
    del session, region_code
    return lambda day: None
