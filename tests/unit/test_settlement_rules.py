"""Settlement intake rules: fund amount (SPEC §3.1), periods (§4), batch dates (docs/rules.md),
eligibility (SPEC §1, API.md settlement record rules), content identity, held totals (§3.2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.clock import period_add, period_of
from app.institutions.rules import Policy
from app.settlements.rules import (
    DayTotals,
    InstitutionContext,
    assign_period,
    batch_date,
    content_hash,
    eligibility_errors,
    fund_amount,
    held_totals,
    revocation_period,
)
from app.settlements.schemas import SettlementIn

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=CST)


def _policy(start: date, active: bool = True) -> Policy:
    return Policy(start, active, 6000, 500, time(14, 30), time(15), 15, 5, None)


def _context(**fields: Any) -> InstitutionContext:
    base: dict[str, Any] = {
        "code": "H001",
        "level": 3,
        "region_code": "640100",
        "division_prefixes": ("6401",),
        "med_type_prefixes": ("2",),
        "enrollments": {"310": ((date(2026, 1, 1), None),), "390": ((date(2026, 1, 1), None),)},
        "policies": {"310": (_policy(date(2026, 1, 1)),), "390": (_policy(date(2026, 1, 1)),)},
        "fund_ids": {"310": 1, "390": 2},
    }
    return InstitutionContext(**(base | fields))


def _record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "psn_no": "P1",
        "insutype": "310",
        "med_type": "21",
        "insuplc_admdvs": "640104",
        "setl_time": datetime(2026, 3, 6, 10, 10, tzinfo=CST),
        "medfee_sumamt": 1_500_000,
        "hifp_pay": 1_000_000,
        "hifob_pay": 0,
    }
    return base | fields


def _rules(record: dict[str, Any], context: InstitutionContext | None = None) -> list[str]:
    errors = eligibility_errors(record, _context() if context is None else context, NOW)
    return [f"{error.field}:{error.rule}" for error in errors]


# --- fund amount --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("insutype", "hifp", "hifob", "fund"),
    [
        ("310", 1_000_000, 0, 1_000_000),
        ("310", 1_000_000, 250_000, 1_250_000),  # 大额 counts for employees
        ("390", 1_000_000, 0, 1_000_000),
        ("390", 1_000_000, 250_000, 1_000_000),  # never for residents (refused upstream)
        ("310", 0, 0, 0),
        ("310", 0, 1, 1),
        ("310", 1, 0, 1),  # S3 of the worked example: 0.01
    ],
)
def test_fund_amount(insutype: str, hifp: int, hifob: int, fund: int) -> None:
    assert fund_amount(insutype, hifp, hifob) == fund


# --- periods and batch dates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "declared_through", "period"),
    [
        (date(2026, 3, 6), None, "2026-03"),  # nothing declared yet
        (date(2026, 3, 1), None, "2026-03"),  # first day of the month
        (date(2026, 3, 31), None, "2026-03"),  # last day
        (date(2026, 3, 31), "2026-02", "2026-03"),  # March undeclared
        (date(2026, 3, 31), "2026-03", "2026-04"),  # March declared: earliest undeclared
        (date(2026, 2, 27), "2026-03", "2026-04"),  # two months late
        (date(2026, 12, 31), "2026-12", "2027-01"),  # across the year
        (date(2026, 4, 1), "2026-03", "2026-04"),
    ],
)
def test_a_settlement_belongs_to_its_month_unless_declared(
    day: date, declared_through: str | None, period: str
) -> None:
    assert assign_period(day, declared_through) == period


@pytest.mark.parametrize(
    ("settlement_period", "declared_through", "period"),
    [
        ("2026-03", None, "2026-03"),  # undeclared: the two cancel out
        ("2026-03", "2026-02", "2026-03"),
        ("2026-03", "2026-03", "2026-04"),  # declared: the earliest undeclared, negative
        ("2026-01", "2026-03", "2026-04"),
        ("2026-12", "2026-12", "2027-01"),
    ],
)
def test_a_revocation_belongs_to_its_settlements_period_unless_declared(
    settlement_period: str, declared_through: str | None, period: str
) -> None:
    assert revocation_period(settlement_period, declared_through) == period


MONTHS = st.integers(0, 30).map(lambda n: period_add("2025-01", n))


@settings(max_examples=100)
@given(st.dates(date(2025, 1, 1), date(2027, 6, 30)), st.none() | MONTHS)
def test_periods_never_land_in_a_declared_month(day: date, declared: str | None) -> None:
    period = assign_period(day, declared)
    assert period >= period_of(day)
    if declared is None or period_of(day) > declared:
        assert period == period_of(day)
    else:
        assert period == period_add(declared, 1)
    # a revocation of a settlement of that month follows the same rule
    assert revocation_period(period_of(day), declared) == period


@pytest.mark.parametrize(
    ("day", "last_generated", "batch"),
    [
        (date(2026, 3, 6), None, date(2026, 3, 6)),  # no batch yet
        (date(2026, 3, 6), date(2026, 3, 5), date(2026, 3, 6)),  # its own batch is next
        (date(2026, 3, 6), date(2026, 3, 6), date(2026, 3, 7)),  # its batch exists: next one
        (date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 7)),  # late: the next batch
        (date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_batch_date_is_the_settlement_date_or_the_next_batch(
    day: date, last_generated: date | None, batch: date
) -> None:
    assert batch_date(day, last_generated) == batch


# --- eligibility (API.md: each refusal names its field and rule) -------------------------


def test_an_eligible_record_has_no_errors() -> None:
    assert _rules(_record()) == []
    assert _rules(_record(insutype="390")) == []
    assert _rules(_record(hifob_pay=500_000)) == []  # 310 with 大额


def test_an_unknown_institution_is_the_only_error() -> None:
    errors = eligibility_errors(_record(hifp_pay=-1, med_type="11"), None, NOW)
    assert [(e.field, e.rule) for e in errors] == [("fixmedins_code", "institution_exists")]


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"insutype": "390", "hifob_pay": 1}, "hifob_pay:hifob_pay_only_310"),
        ({"hifp_pay": 1_500_001}, "hifp_pay:fund_within_total"),
        ({"hifp_pay": 1_000_000, "hifob_pay": 500_001}, "hifp_pay:fund_within_total"),
        ({"setl_time": NOW + timedelta(microseconds=1)}, "setl_time:not_in_future"),
        ({"insuplc_admdvs": "640200"}, "insuplc_admdvs:same_pooling_region"),
        ({"insuplc_admdvs": "650100"}, "insuplc_admdvs:same_pooling_region"),
        ({"insuplc_admdvs": "640000"}, "insuplc_admdvs:same_pooling_region"),
        ({"med_type": "11"}, "med_type:inpatient_med_type"),  # outpatient
        ({"med_type": "92"}, "med_type:inpatient_med_type"),
    ],
)
def test_each_broken_rule_is_named(fields: dict[str, Any], rule: str) -> None:
    assert _rules(_record(**fields)) == [rule]


@pytest.mark.parametrize(
    "fields",
    [
        {"hifp_pay": 1_500_000},  # the fund may pay the whole cost
        {"hifp_pay": 1_000_000, "hifob_pay": 500_000},
        {"hifp_pay": 0, "medfee_sumamt": 0},
        {"setl_time": NOW},  # not after the upload: equal is fine
        {"setl_time": NOW.astimezone(UTC)},
        {"insuplc_admdvs": "640100"},
        {"insuplc_admdvs": "640181"},
        {"med_type": "2"},
        {"med_type": "2101"},
    ],
)
def test_boundaries_that_are_allowed(fields: dict[str, Any]) -> None:
    assert _rules(_record(**fields)) == []


@pytest.mark.parametrize(("level", "errors"), [(1, ["fixmedins_code:institution_level"]), (2, [])])
def test_only_level_two_and_above(level: int, errors: list[str]) -> None:
    assert _rules(_record(), _context(level=level)) == errors


def test_enrollment_on_the_settlement_date() -> None:
    spans = {"310": ((date(2026, 3, 6), date(2026, 3, 31)),)}
    context = _context(enrollments=spans)
    enrolled = "insutype:institution_enrolled"
    assert _rules(_record(), context) == []  # first day
    assert _rules(_record(setl_time=datetime(2026, 3, 5, 23, 59, tzinfo=CST)), context) == [
        enrolled
    ]
    # the settlement date is the Shanghai date: 16:30 UTC on the 5th is the 6th in Shanghai
    assert _rules(_record(setl_time=datetime(2026, 3, 5, 16, 30, tzinfo=UTC)), context) == []
    assert _rules(_record(setl_time=datetime(2026, 3, 5, 15, 59, tzinfo=UTC)), context) == [
        enrolled
    ]
    assert _rules(_record(insutype="390"), context) == [enrolled]  # enrolled for 310 only


def test_enrollment_end_date_is_the_last_day_enrolled() -> None:
    # an enrollment may end on its start date (schema: end_date not before start_date), so
    # the end date is a day enrolled
    spans = {"310": ((date(2026, 3, 2), date(2026, 3, 6)),)}
    context = _context(enrollments=spans, policies={"310": (_policy(date(2026, 1, 1)),)})
    late_now = datetime(2026, 3, 20, tzinfo=CST)
    on_end = _record(setl_time=datetime(2026, 3, 6, 23, 59, 59, tzinfo=CST))
    after_end = _record(setl_time=datetime(2026, 3, 7, 0, 0, tzinfo=CST))
    assert eligibility_errors(on_end, context, late_now) == []
    assert [e.rule for e in eligibility_errors(after_end, context, late_now)] == [
        "institution_enrolled"
    ]


def test_fund_ledger_switched_on_from_its_date_and_off_when_inactive() -> None:
    switched = {"310": (_policy(date(2026, 3, 6)), _policy(date(2026, 3, 9), active=False))}
    context = _context(policies=switched)
    off = "insutype:fund_switched_on"
    assert _rules(_record(setl_time=datetime(2026, 3, 5, 23, 59, tzinfo=CST)), context) == [off]
    assert _rules(_record(setl_time=datetime(2026, 3, 6, 0, 0, tzinfo=CST)), context) == []
    assert _rules(_record(setl_time=datetime(2026, 3, 8, 23, 59, tzinfo=CST)), context) == []
    assert _rules(_record(setl_time=datetime(2026, 3, 9, 0, 0, tzinfo=CST)), context) == [off]


def test_several_division_prefixes_and_med_types() -> None:
    context = _context(division_prefixes=("6401", "640522"), med_type_prefixes=("21", "22"))
    assert _rules(_record(insuplc_admdvs="640522"), context) == []
    assert _rules(_record(insuplc_admdvs="640521"), context) == [
        "insuplc_admdvs:same_pooling_region"
    ]
    assert _rules(_record(med_type="22"), context) == []
    assert _rules(_record(med_type="23"), context) == ["med_type:inpatient_med_type"]


def test_every_broken_rule_is_reported_at_once() -> None:
    record = _record(
        insutype="390",
        hifob_pay=1,
        hifp_pay=1_500_000,
        setl_time=NOW + timedelta(days=1),
        insuplc_admdvs="650100",
        med_type="11",
    )
    context = _context(level=1, enrollments={}, policies={})
    assert sorted(_rules(record, context)) == sorted(
        [
            "hifob_pay:hifob_pay_only_310",
            "hifp_pay:fund_within_total",
            "setl_time:not_in_future",
            "fixmedins_code:institution_level",
            "insutype:institution_enrolled",
            "insutype:fund_switched_on",
            "insuplc_admdvs:same_pooling_region",
            "med_type:inpatient_med_type",
        ]
    )
    for error in eligibility_errors(record, context, NOW):
        assert error.message  # a reason a person can read


# --- content identity ---------------------------------------------------------------------


def test_content_hash_ignores_key_order() -> None:
    record = _record()
    assert content_hash(record) == content_hash(dict(reversed(list(record.items()))))


@pytest.mark.parametrize("written", ["2026-03-06T02:10:00Z", "2026-03-06T04:10:00+02:00"])
def test_the_same_instant_with_another_offset_is_the_same_content(written: str) -> None:
    """docs/rules.md: a replay with the settlement time written with another UTC offset is
    the same content. The hash sees the record as the upload schema hands it over."""
    wire = {
        "fixmedins_code": "H001",
        "setl_id": "S1",
        "psn_no": "P1",
        "insutype": "310",
        "med_type": "21",
        "insuplc_admdvs": "640104",
        "setl_time": "2026-03-06T10:10:00+08:00",
        "medfee_sumamt": "15000.00",
        "hifp_pay": "10000.00",
    }
    first = SettlementIn.model_validate(wire).record()
    replay = SettlementIn.model_validate(wire | {"setl_time": written}).record()
    later = SettlementIn.model_validate(wire | {"setl_time": "2026-03-06T10:10:01+08:00"})
    assert content_hash(first) == content_hash(replay)
    assert content_hash(first) != content_hash(later.record())


@pytest.mark.parametrize(
    "change",
    [
        {"hifp_pay": 1_000_001},
        {"hifob_pay": 1},
        {"setl_time": datetime(2026, 3, 6, 10, 10, 1, tzinfo=CST)},
        {"insutype": "390"},
        {"psn_no": "P2"},
        {"mdtrt_id": "V1"},  # an added optional field is other content
    ],
)
def test_content_hash_sees_every_difference(change: dict[str, Any]) -> None:
    assert content_hash(_record()) != content_hash(_record(**change))


# --- held totals (SPEC §3.2) --------------------------------------------------------------


def test_held_totals_are_settlements_of_the_day_minus_revocations_made_that_day() -> None:
    d6, d7, d10 = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 10)
    # worked example: S1 + S2 on the 6th, S3 on the 7th, S4 on the 10th; S2 revoked the 10th
    totals = held_totals([(d6, 2, 1_333_333), (d7, 1, 1), (d10, 1, 2_000_000)], [(d10, 1, 333_333)])
    assert totals == {
        d6: DayTotals(2, 1_333_333),  # the revocation does not change its own date
        d7: DayTotals(1, 1),
        d10: DayTotals(0, 1_666_667),
    }


def test_held_totals_of_no_activity_and_of_a_revocation_only_day() -> None:
    assert held_totals([], []) == {}
    day = date(2026, 3, 10)
    assert held_totals([], [(day, 2, 5_000)]) == {day: DayTotals(-2, -5_000)}


def test_held_totals_add_groups_of_the_same_day() -> None:
    day = date(2026, 3, 6)
    totals = held_totals([(day, 1, 100), (day, 2, 250)], [(day, 1, 100), (day, 1, 50)])
    assert totals == {day: DayTotals(1, 200)}


GROUPS = st.lists(
    st.tuples(
        st.dates(date(2026, 3, 1), date(2026, 3, 10)), st.integers(0, 50), st.integers(0, 10**9)
    ),
    max_size=20,
)


@settings(max_examples=100)
@given(GROUPS, GROUPS)
def test_held_totals_law(
    settlements: list[tuple[date, int, int]], revocations: list[tuple[date, int, int]]
) -> None:
    totals = held_totals(settlements, revocations)
    assert set(totals) == {day for day, _, _ in settlements + revocations}
    for day, held in totals.items():
        assert held.count == sum(c for d, c, _ in settlements if d == day) - sum(
            c for d, c, _ in revocations if d == day
        )
        assert held.fund_fen == sum(f for d, _, f in settlements if d == day) - sum(
            f for d, _, f in revocations if d == day
        )
