"""More edges of the monthly rules (SPEC §2 calendar and rounding, §4 deadlines and formula).

Complements tests/unit/test_monthly_rules.py. Expected values are worked out from SPEC.md and
docs/rules.md by hand, never taken from the code. The rules module is imported as a module so
these tests follow it wherever the functions move inside it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.monthly import rules
from app.workdays.rules import WorkCalendar

FEN = 10**11


class WeekdayCalendar(WorkCalendar):
    """Monday to Friday only (plus overrides): deadlines that hold whatever the holiday data."""

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        super().__init__(overrides)
        self._pinned = dict(overrides or {})

    def is_working(self, day: date) -> bool:
        return self._pinned.get(day, day.weekday() < 5)


WEEKDAYS = WeekdayCalendar()


def _inputs(**fields: int) -> rules.Inputs:
    zero = {
        "fund_pay_fen": 0,
        "deposit_rate_bp": 500,
        "audit_fen": 0,
        "daily_paid_fen": 0,
        "procurement_fen": 0,
        "returned_fen": 0,
        "open_receivable_fen": 0,
    }
    return rules.Inputs(**(zero | fields))


def _round_half_away(fen: int, ratio_bp: int) -> int:
    """SPEC §2: half away from zero to the fen, Decimal ROUND_HALF_UP, written independently."""
    exact = Decimal(fen) * Decimal(ratio_bp) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _first_working_on_or_after(day: date, calendar: WorkCalendar) -> date:
    while not calendar.is_working(day):
        day += timedelta(days=1)
    return day


# --- declaration deadline and computation date (SPEC §4, §2 "on or after" / "after") --------


@pytest.mark.parametrize(
    ("period", "deadline", "computed"),
    [
        # December's deadline lies in January of the next year (Thu 28 Jan 2027)
        ("2026-12", date(2027, 1, 28), date(2027, 1, 29)),
        # leap year: January 2028 declared by the 28th of February, computed on the 29th
        ("2028-01", date(2028, 2, 28), date(2028, 2, 29)),
        # February of a leap year: the deadline is in March, the 29th plays no part
        ("2028-02", date(2028, 3, 28), date(2028, 3, 29)),
        # 28 Feb 2027 is a Sunday: on or after -> Mon 1 Mar
        ("2027-01", date(2027, 3, 1), date(2027, 3, 2)),
    ],
)
def test_declaration_day_28_at_month_and_year_ends(
    period: str, deadline: date, computed: date
) -> None:
    assert rules.declaration_deadline(period, 28, WEEKDAYS) == deadline
    assert rules.computation_date(period, 28, WEEKDAYS) == computed


def test_deadline_on_the_first_of_the_month_never_stays_in_the_declared_month() -> None:
    # declaration day 1: the deadline is in M+1 even when the 1st is a day off (SPEC §4)
    calendar = WeekdayCalendar({date(2027, 1, 1): False})  # New Year's Day, a Friday
    assert rules.declaration_deadline("2026-12", 1, calendar) == date(2027, 1, 4)
    assert rules.computation_date("2026-12", 1, calendar) == date(2027, 1, 5)


def test_a_worked_weekend_day_is_a_deadline_and_a_computation_day() -> None:
    # 调休: a Saturday made a working day is a working day for both functions (SPEC §2)
    calendar = WeekdayCalendar({date(2026, 8, 15): True, date(2026, 8, 16): True})
    assert rules.declaration_deadline("2026-07", 15, calendar) == date(2026, 8, 15)  # Sat
    assert rules.computation_date("2026-07", 15, calendar) == date(2026, 8, 16)  # Sun


def test_a_long_holiday_pushes_both_dates_past_it() -> None:
    # the 15th and the following week off: the deadline is the first working day after them
    off = {date(2026, 4, 15) + timedelta(days=n): False for n in range(10)}
    calendar = WeekdayCalendar(off)
    assert rules.declaration_deadline("2026-03", 15, calendar) == date(2026, 4, 27)
    assert rules.computation_date("2026-03", 15, calendar) == date(2026, 4, 28)


PERIODS = st.builds(
    lambda year, month: f"{year:04d}-{month:02d}", st.integers(2025, 2030), st.integers(1, 12)
)
# overrides as day offsets from the date the test starts from, so they land where they matter
OVERRIDES = st.dictionaries(st.integers(-3, 45), st.booleans(), max_size=30)


def _shifted(start: date, offsets: dict[int, bool]) -> WeekdayCalendar:
    return WeekdayCalendar({start + timedelta(days=n): value for n, value in offsets.items()})


@settings(max_examples=150)
@given(PERIODS, st.integers(1, 28), OVERRIDES)
def test_deadline_law(period: str, day: int, overrides: dict[int, bool]) -> None:
    """SPEC §2/§4: the deadline is the first working day on or after the day-th of M+1; the
    computation is the first working day strictly after the deadline."""
    year, month = (int(part) for part in period.split("-"))
    nominal = date(year + month // 12, month % 12 + 1, day)
    calendar = _shifted(nominal, overrides)
    deadline = rules.declaration_deadline(period, day, calendar)
    assert deadline == _first_working_on_or_after(nominal, calendar)
    computed = rules.computation_date(period, day, calendar)
    assert computed == _first_working_on_or_after(deadline + timedelta(days=1), calendar)


# --- appeal deadline (SPEC §4: until 23:59 of the 5th working day after the result's date) ---


@pytest.mark.parametrize(
    ("result_date", "deadline"),
    [
        (date(2026, 12, 31), date(2027, 1, 8)),  # Thu; 1 Jan off: 4, 5, 6, 7, 8 Jan
        (date(2028, 2, 28), date(2028, 3, 6)),  # leap year: 29 Feb, 1, 2, 3, 6 Mar
        (date(2028, 2, 29), date(2028, 3, 7)),  # a result on the leap day itself
        (date(2027, 2, 26), date(2027, 3, 5)),  # Fri 26 Feb of a common year: 1..5 Mar
    ],
)
def test_appeal_deadline_across_year_and_month_ends(result_date: date, deadline: date) -> None:
    calendar = WeekdayCalendar({date(2027, 1, 1): False})
    assert rules.appeal_deadline(result_date, 5, calendar) == deadline


@settings(max_examples=150)
@given(st.dates(date(2025, 1, 1), date(2030, 12, 31)), st.integers(1, 20), OVERRIDES)
def test_appeal_deadline_law(result_date: date, window: int, overrides: dict[int, bool]) -> None:
    """Exactly `window` working days lie in (result date, deadline], the last one being it."""
    calendar = _shifted(result_date, overrides)
    deadline = rules.appeal_deadline(result_date, window, calendar)
    assert calendar.is_working(deadline)
    days = [result_date + timedelta(days=n) for n in range(1, (deadline - result_date).days + 1)]
    assert sum(calendar.is_working(day) for day in days) == window


@pytest.mark.parametrize("window", [0, -1])
def test_appeal_windows_below_one_working_day_are_refused(window: int) -> None:
    with pytest.raises(AssertionError):
        rules.appeal_deadline(date(2026, 3, 9), window, WEEKDAYS)


# --- the statement formula (SPEC §4) -----------------------------------------------------


def test_zero_fund_pay_with_only_deductions_is_a_receivable() -> None:
    # an empty month that still takes a final deduction of an earlier month: nothing is paid,
    # the deduction is owed back (net < 0 -> RECEIVABLE, SPEC §4 statement flow)
    statement = rules.compute(_inputs(audit_fen=50_000, open_receivable_fen=10_000))
    assert (statement.deposit_fen, statement.ratio_amount_fen) == (0, 0)
    assert statement.gross_net_fen == -50_000
    assert (statement.offset_fen, statement.net_fen) == (0, -50_000)
    assert rules.status_after_approval(statement.net_fen) == "RECEIVABLE"


def test_procurement_beyond_the_ratio_amount_is_a_receivable() -> None:
    # fund 1,000.00: 950.00 owed; a procurement advance of 2,000.00 was paid for it
    statement = rules.compute(_inputs(fund_pay_fen=100_000, procurement_fen=200_000))
    assert statement.net_fen == 95_000 - 200_000
    assert rules.status_after_approval(statement.net_fen) == "RECEIVABLE"


def test_a_month_whose_daily_payments_covered_exactly_the_ratio_amount_settles_at_zero() -> None:
    statement = rules.compute(
        _inputs(fund_pay_fen=1_000_000, deposit_rate_bp=4000, daily_paid_fen=600_000)
    )
    assert (statement.deposit_fen, statement.net_fen) == (400_000, 0)
    assert rules.status_after_approval(statement.net_fen) == "SETTLED"


def test_a_returned_payment_is_offset_against_the_open_receivable_first() -> None:
    # SPEC §4: returned counts in gross_net, and the offset takes from any positive gross_net
    statement = rules.compute(_inputs(returned_fen=300_000, open_receivable_fen=100_000))
    assert (statement.gross_net_fen, statement.offset_fen, statement.net_fen) == (
        300_000,
        100_000,
        200_000,
    )


@pytest.mark.parametrize(
    ("fund_pay", "rate", "deposit"),
    [
        # the exact half at other rates, both signs: half away from zero (SPEC §2)
        (50, 100, 1),  # 50 × 0.01 = 0.5 fen -> 1
        (-50, 100, -1),
        (150, 100, 2),  # 1.5 -> 2 (not banker's 2 by chance: see 250)
        (250, 100, 3),  # 2.5 -> 3 (banker's rounding would give 2)
        (-250, 100, -3),
        (1, 5000, 1),  # 0.5 -> 1
        (-1, 5000, -1),
        (3, 5000, 2),  # 1.5 -> 2
        (5, 5000, 3),  # 2.5 -> 3
        (1, 4999, 0),  # 0.4999 -> 0
        (-1, 4999, 0),
        (1, 10_000, 1),  # the whole amount
        (10**13, 500, 5 * 10**11),  # the largest single amount (docs/rules.md Money)
        (10**13 + 1000, 5, 5 * 10**9 + 1),  # 5,000,000,000.5 fen -> +1 (no float error)
        (-(10**13) - 1000, 5, -(5 * 10**9) - 1),
    ],
)
def test_deposit_rounds_half_away_from_zero_at_any_rate(
    fund_pay: int, rate: int, deposit: int
) -> None:
    assert _round_half_away(fund_pay, rate) == deposit  # the table agrees with SPEC §2
    statement = rules.compute(_inputs(fund_pay_fen=fund_pay, deposit_rate_bp=rate))
    assert statement.deposit_fen == deposit


@pytest.mark.parametrize("rate", [-1, 10_001])
def test_a_deposit_rate_outside_zero_to_one_is_refused(rate: int) -> None:
    # docs/rules.md Money: ratios are decimals in [0, 1]
    with pytest.raises(AssertionError):
        rules.compute(_inputs(fund_pay_fen=100_000, deposit_rate_bp=rate))


@pytest.mark.parametrize(
    ("net", "status"), [(-(10**13), "RECEIVABLE"), (-1, "RECEIVABLE"), (0, "SETTLED")]
)
def test_nothing_is_paid_unless_net_is_positive(net: int, status: str) -> None:
    assert rules.status_after_approval(net) == status


# --- laws ---------------------------------------------------------------------------------

AMOUNTS = st.integers(min_value=0, max_value=FEN)
INPUTS = st.builds(
    rules.Inputs,
    fund_pay_fen=st.integers(min_value=-FEN, max_value=FEN),
    deposit_rate_bp=st.integers(min_value=0, max_value=10_000),
    audit_fen=AMOUNTS,
    daily_paid_fen=AMOUNTS,
    procurement_fen=AMOUNTS,
    returned_fen=AMOUNTS,
    open_receivable_fen=AMOUNTS,
)


@settings(max_examples=150)
@given(st.integers(0, FEN), st.integers(0, 10_000))
def test_deposit_rounding_is_symmetric_in_sign(fund_pay: int, rate: int) -> None:
    """Half away from zero (SPEC §2): a revocation's deposit mirrors the settlement's."""
    plus = rules.compute(_inputs(fund_pay_fen=fund_pay, deposit_rate_bp=rate))
    minus = rules.compute(_inputs(fund_pay_fen=-fund_pay, deposit_rate_bp=rate))
    assert minus.deposit_fen == -plus.deposit_fen
    assert minus.ratio_amount_fen == -plus.ratio_amount_fen


@settings(max_examples=150)
@given(st.integers(-FEN, FEN), st.integers(0, 10_000))
def test_deposit_lies_between_zero_and_the_fund_pay(fund_pay: int, rate: int) -> None:
    """A deposit never exceeds what it is taken from, nor has the other sign."""
    statement = rules.compute(_inputs(fund_pay_fen=fund_pay, deposit_rate_bp=rate))
    assert abs(statement.deposit_fen) <= abs(fund_pay)
    assert statement.deposit_fen * fund_pay >= 0
    assert abs(statement.ratio_amount_fen) <= abs(fund_pay)
    assert statement.ratio_amount_fen * fund_pay >= 0


@settings(max_examples=150)
@given(INPUTS, st.integers(1, FEN))
def test_more_fund_never_pays_less(inputs: rules.Inputs, more: int) -> None:
    """One rounding of the deposit (≤ 1 fen of difference per fen) never eats the extra fund."""
    before = rules.compute(inputs)
    after = rules.compute(replace(inputs, fund_pay_fen=inputs.fund_pay_fen + more))
    assert after.ratio_amount_fen >= before.ratio_amount_fen
    assert after.gross_net_fen >= before.gross_net_fen
    assert after.net_fen >= before.net_fen


@settings(max_examples=150)
@given(INPUTS, st.integers(1, FEN))
def test_more_daily_paid_lowers_the_gross_by_exactly_that(inputs: rules.Inputs, more: int) -> None:
    before = rules.compute(inputs)
    after = rules.compute(replace(inputs, daily_paid_fen=inputs.daily_paid_fen + more))
    assert after.gross_net_fen == before.gross_net_fen - more
    assert after.deposit_fen == before.deposit_fen  # the deposit is of fund_pay only
    assert after.net_fen <= before.net_fen


@settings(max_examples=150)
@given(INPUTS)
def test_a_positive_net_means_the_receivable_was_used_up(inputs: rules.Inputs) -> None:
    """Money is paid out only after the whole open receivable is offset (SPEC §4 下期抵扣)."""
    s = rules.compute(inputs)
    if s.net_fen > 0:
        assert s.offset_fen == inputs.open_receivable_fen
        assert rules.status_after_approval(s.net_fen) == "APPROVED"
    if s.offset_fen > 0:
        assert s.net_fen >= 0  # an offset never goes with a new receivable
    assert s.deposit_fen == _round_half_away(inputs.fund_pay_fen, inputs.deposit_rate_bp)


@settings(max_examples=100)
@given(INPUTS)
def test_computing_a_statement_again_gives_the_same_statement(inputs: rules.Inputs) -> None:
    """A recompute on the same inputs (after a dispute) rounds to the same fen: no drift."""
    first = rules.compute(inputs)
    again = rules.compute(
        rules.Inputs(
            fund_pay_fen=first.fund_pay_fen,
            deposit_rate_bp=inputs.deposit_rate_bp,
            audit_fen=first.audit_fen,
            daily_paid_fen=first.daily_paid_fen,
            procurement_fen=first.procurement_fen,
            returned_fen=first.returned_fen,
            open_receivable_fen=inputs.open_receivable_fen,
        )
    )
    assert again == first
