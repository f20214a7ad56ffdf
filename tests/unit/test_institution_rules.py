"""Reference-data rules: the policy version in force (effective-dated, SPEC §1 and §3.3),
pooling-region membership and enabled medical types (SPEC §1), enrollment spans."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.institutions.rules import (
    Policy,
    default_division_prefixes,
    enabled_med_type,
    enrolled_on,
    in_force,
    in_region,
    switched_on_from,
)


def _policy(start: date, active: bool = True, ratio_bp: int = 6000) -> Policy:
    return Policy(start, active, ratio_bp, 500, time(14, 30), time(15), 15, 5, None)


JAN, MAR, JUN = date(2026, 1, 1), date(2026, 3, 15), date(2026, 6, 1)


def test_the_version_in_force_is_the_latest_started_on_or_before_the_date() -> None:
    versions = [_policy(MAR, ratio_bp=7000), _policy(JAN)]  # any order
    assert in_force(versions, JAN - timedelta(days=1)) is None  # before the first version
    assert in_force(versions, JAN) == _policy(JAN)
    assert in_force(versions, MAR - timedelta(days=1)) == _policy(JAN)
    assert in_force(versions, MAR) == _policy(MAR, ratio_bp=7000)
    assert in_force(versions, date(2030, 1, 1)) == _policy(MAR, ratio_bp=7000)
    assert in_force([], JAN) is None


def test_an_inactive_version_switches_the_fund_off_until_an_active_one() -> None:
    versions = [_policy(JAN), _policy(MAR, active=False), _policy(JUN)]
    assert in_force(versions, MAR - timedelta(days=1)) == _policy(JAN)
    assert in_force(versions, MAR) is None
    assert in_force(versions, JUN - timedelta(days=1)) is None
    assert in_force(versions, JUN) == _policy(JUN)


def test_switched_on_from_is_the_first_active_version() -> None:
    assert switched_on_from([]) is None
    assert switched_on_from([_policy(JAN, active=False)]) is None
    assert switched_on_from([_policy(JUN), _policy(MAR), _policy(JAN, active=False)]) == MAR


VERSIONS = st.lists(
    st.builds(
        _policy,
        st.dates(date(2025, 1, 1), date(2027, 12, 31)),
        st.booleans(),
        st.integers(0, 10_000),
    ),
    max_size=6,
    unique_by=lambda policy: policy.effective_from,
)


@settings(max_examples=100)
@given(VERSIONS, st.dates(date(2024, 6, 1), date(2028, 6, 1)))
def test_in_force_law(versions: list[Policy], day: date) -> None:
    started = [v for v in versions if v.effective_from <= day]
    latest = max(started, key=lambda v: v.effective_from) if started else None
    assert in_force(versions, day) == (latest if latest is not None and latest.active else None)
    first_on = switched_on_from(versions)
    if first_on is None or day < first_on:
        assert in_force(versions, day) is None


def test_default_division_prefix_is_the_first_four_digits() -> None:
    # SPEC §1: 640104 belongs to 640100
    prefixes = default_division_prefixes("640100")
    assert prefixes == ["6401"]
    assert in_region("640104", prefixes)
    assert in_region("640100", prefixes)
    assert not in_region("640200", prefixes)
    assert not in_region("650100", prefixes)


def test_region_and_med_type_prefixes() -> None:
    assert in_region("640522", ["6401", "640522"])
    assert not in_region("640521", ["6401", "640522"])
    assert not in_region("640104", [])  # no prefix, no member
    assert enabled_med_type("21", ["2"])  # SPEC §1: inpatient codes start with 2
    assert enabled_med_type("2", ["2"])
    assert not enabled_med_type("11", ["2"])
    assert not enabled_med_type("12", ["21", "22"])
    assert enabled_med_type("22", ["21", "22"])
    assert not enabled_med_type("21", [])


@pytest.mark.parametrize(
    ("day", "enrolled"),
    [
        (date(2026, 2, 28), False),
        (date(2026, 3, 1), True),  # start day
        (date(2026, 3, 31), True),  # end day (an enrollment may end on its start date)
        (date(2026, 4, 1), False),  # gap between spans
        (date(2026, 4, 30), False),
        (date(2026, 5, 1), True),  # open-ended span
        (date(2099, 1, 1), True),
    ],
)
def test_enrolled_on_spans(day: date, enrolled: bool) -> None:
    spans = [(date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 5, 1), None)]
    assert enrolled_on(spans, day) is enrolled


def test_a_one_day_enrollment_and_no_enrollment() -> None:
    day = date(2026, 3, 6)
    assert enrolled_on([(day, day)], day)
    assert not enrolled_on([(day, day)], day + timedelta(days=1))
    assert not enrolled_on([], day)
