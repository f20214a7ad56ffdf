"""Monthly settlement rules (SPEC §4): deadlines and the statement formula.

Expected values come from SPEC.md (§2 rounding, §4 formula, §7 worked example), never from
what the code returns.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.daily.rules import daily_amount
from app.monthly.rules import (
    Inputs,
    Statement,
    appeal_deadline,
    computation_date,
    compute,
    declaration_deadline,
    status_after_approval,
)
from app.settlements.rules import assign_period, fund_amount, revocation_period
from app.workdays.rules import WorkCalendar

CAL = WorkCalendar()
FEN = 10**11  # amounts up to a billion yuan in the property tests


def _inputs(**fields: int) -> Inputs:
    zero = {
        "fund_pay_fen": 0,
        "deposit_rate_bp": 500,
        "audit_fen": 0,
        "daily_paid_fen": 0,
        "procurement_fen": 0,
        "returned_fen": 0,
        "open_receivable_fen": 0,
    }
    return Inputs(**(zero | fields))


def _half_up(fen: int, ratio_bp: int) -> int:
    """SPEC §2 rounding written independently: Decimal ROUND_HALF_UP on yuan."""
    yuan = Decimal(fen) / 100 * Decimal(ratio_bp) / 10_000
    return int(yuan.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


# --- deadlines (SPEC §4 declaration and computation, §2 calendar functions) -----------------


@pytest.mark.parametrize(
    ("period", "deadline", "computed"),
    [
        ("2026-03", date(2026, 4, 15), date(2026, 4, 16)),  # Wed 15 Apr: itself, then Thu
        ("2026-02", date(2026, 3, 16), date(2026, 3, 17)),  # Sun 15 Mar -> Mon 16 Mar
        ("2026-01", date(2026, 2, 24), date(2026, 2, 25)),  # 15 Feb in Spring Festival
        ("2026-05", date(2026, 6, 15), date(2026, 6, 16)),  # Mon 15 Jun
        ("2026-08", date(2026, 9, 15), date(2026, 9, 16)),
        ("2026-10", date(2026, 11, 16), date(2026, 11, 17)),  # Sun 15 Nov -> Mon 16 Nov
        ("2026-12", date(2027, 1, 15), date(2027, 1, 18)),  # year rollover; Fri -> Mon
    ],
)
def test_declaration_deadline_is_the_15th_of_m_plus_1_on_or_after(
    period: str, deadline: date, computed: date
) -> None:
    assert declaration_deadline(period, 15, CAL) == deadline
    assert computation_date(period, 15, CAL) == computed


def test_declaration_day_is_configurable_from_the_1st_to_the_28th() -> None:
    # 1 Oct 2026 is National Day (1–7 Oct off): on or after -> Thu 8 Oct; computed Fri 9 Oct
    assert declaration_deadline("2026-09", 1, CAL) == date(2026, 10, 8)
    assert computation_date("2026-09", 1, CAL) == date(2026, 10, 9)
    # 28 Feb 2026 is a worked Saturday (调休): the deadline stays on it
    assert declaration_deadline("2026-01", 28, CAL) == date(2026, 2, 28)
    assert computation_date("2026-01", 28, CAL) == date(2026, 3, 2)


def test_an_override_moves_the_deadline_and_the_computation() -> None:
    calendar = WorkCalendar({date(2026, 4, 15): False, date(2026, 4, 18): True})
    assert declaration_deadline("2026-03", 15, calendar) == date(2026, 4, 16)
    assert computation_date("2026-03", 15, calendar) == date(2026, 4, 17)
    # a worked Saturday after a Friday deadline is the first working day after it
    assert computation_date("2026-03", 17, calendar) == date(2026, 4, 18)


def test_computation_date_is_strictly_after_the_deadline() -> None:
    for month in range(1, 13):
        period = f"2026-{month:02d}"
        deadline = declaration_deadline(period, 15, CAL)
        computed = computation_date(period, 15, CAL)
        assert CAL.is_working(deadline) and CAL.is_working(computed)
        assert computed > deadline
        assert CAL.working_days_between(deadline, computed) == 1


@pytest.mark.parametrize(
    ("result_date", "window", "deadline"),
    [
        (date(2026, 3, 6), 5, date(2026, 3, 13)),  # Fri: 9, 10, 11, 12, 13
        (date(2026, 3, 7), 5, date(2026, 3, 13)),  # Sat: the result's day does not count
        (date(2026, 3, 9), 5, date(2026, 3, 16)),  # Mon: 10..13, 16
        (date(2026, 3, 9), 1, date(2026, 3, 10)),  # the smallest window
        (date(2026, 2, 12), 5, date(2026, 2, 26)),  # 13, 14 (worked Sat), 24, 25, 26
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # 8, 9, 10 (worked Sat), 12, 13
    ],
)
def test_appeal_deadline_is_the_nth_working_day_after_the_result(
    result_date: date, window: int, deadline: date
) -> None:
    assert appeal_deadline(result_date, window, CAL) == deadline


def test_appeal_window_of_zero_working_days_is_refused() -> None:
    with pytest.raises(AssertionError):
        appeal_deadline(date(2026, 3, 9), 0, CAL)


# --- the statement formula (SPEC §4) -----------------------------------------------------


def test_worked_example_march_statement_of_h001() -> None:
    """SPEC §7: fund_pay 30,000.01; deposit 1,500.00; ratio_amount 28,500.01; audit 500.00;
    daily_paid 20,000.01; procurement 1,000.00; net 7,000.00."""
    march = "2026-03"
    s1, s2, s3, s4 = (fund_amount("310", fen, 0) for fen in (1_000_000, 333_333, 1, 2_000_000))
    assert {assign_period(day, None) for day in (date(2026, 3, 6), date(2026, 3, 10))} == {march}
    assert revocation_period(march, None) == march  # S2 and its revocation cancel out
    fund_pay = s1 + s2 + s3 + s4 - s2
    # S2's daily 2,000.00 was paid for March and still counts
    daily_paid = sum(daily_amount(fund, 6000) for fund in (s1, s2, s3, s4))
    statement = compute(
        _inputs(
            fund_pay_fen=fund_pay,
            deposit_rate_bp=500,
            audit_fen=50_000,
            daily_paid_fen=daily_paid,
            procurement_fen=100_000,
        )
    )
    assert statement == Statement(
        fund_pay_fen=3_000_001,
        deposit_fen=150_000,  # 1,500.0005 -> 1,500.00
        ratio_amount_fen=2_850_001,
        audit_fen=50_000,
        daily_paid_fen=2_000_001,
        procurement_fen=100_000,
        returned_fen=0,
        gross_net_fen=700_000,
        offset_fen=0,
        net_fen=700_000,
    )
    assert status_after_approval(statement.net_fen) == "APPROVED"


def test_worked_example_march_statement_of_h002_with_a_failed_daily_payment() -> None:
    """SPEC §7: fund_pay 5,000.00; deposit 250.00; daily_paid 0 (FAILED); net 4,750.00."""
    statement = compute(_inputs(fund_pay_fen=500_000))
    assert (statement.deposit_fen, statement.ratio_amount_fen) == (25_000, 475_000)
    assert (statement.daily_paid_fen, statement.net_fen) == (0, 475_000)


def test_an_empty_period_is_a_zero_statement_that_settles() -> None:
    statement = compute(_inputs(open_receivable_fen=123_456))
    assert statement == Statement(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert status_after_approval(statement.net_fen) == "SETTLED"


def test_the_statement_pays_what_daily_payments_left_of_the_ratio_amount() -> None:
    # fund 10,000.00 at 5 %: 9,500.00 is owed this month; 6,000.00 was paid daily
    statement = compute(_inputs(fund_pay_fen=1_000_000, daily_paid_fen=600_000))
    assert statement.net_fen == 350_000


@pytest.mark.parametrize(
    ("fund_pay", "deposit"),
    [
        (10, 1),  # 0.10 × 0.05 = 0.005 -> 0.01
        (9, 0),  # 0.0045 -> 0.00
        (30, 2),  # 0.015 -> 0.02
        (-10, -1),  # −0.005 -> −0.01 (half away from zero)
        (-9, 0),  # −0.0045 -> 0.00
        (-30, -2),  # −0.015 -> −0.02
        (3_000_001, 150_000),  # 1,500.0005 -> 1,500.00
        (3_000_010, 150_001),  # 1,500.005 -> 1,500.01
        (-3_000_010, -150_001),
    ],
)
def test_deposit_rounds_half_away_from_zero_once(fund_pay: int, deposit: int) -> None:
    statement = compute(_inputs(fund_pay_fen=fund_pay))
    assert statement.deposit_fen == deposit
    assert statement.ratio_amount_fen == fund_pay - deposit  # no second rounding


@pytest.mark.parametrize(("rate", "deposit"), [(0, 0), (10_000, 1_000_000), (1, 100)])
def test_deposit_rate_at_its_bounds(rate: int, deposit: int) -> None:
    statement = compute(_inputs(fund_pay_fen=1_000_000, deposit_rate_bp=rate))
    assert statement.deposit_fen == deposit
    assert statement.ratio_amount_fen == 1_000_000 - deposit


def test_revocations_beyond_the_month_give_a_negative_net_and_a_receivable() -> None:
    # a declared month's revocation lands here as −1,000.00: deposit −50.00 is given back
    statement = compute(_inputs(fund_pay_fen=-100_000, open_receivable_fen=500_000))
    assert statement.deposit_fen == -5_000
    assert statement.ratio_amount_fen == -95_000
    assert statement.gross_net_fen == -95_000
    assert statement.offset_fen == 0  # nothing is offset against a negative amount
    assert statement.net_fen == -95_000
    assert status_after_approval(statement.net_fen) == "RECEIVABLE"


def test_audit_larger_than_what_is_owed_gives_a_negative_net() -> None:
    statement = compute(_inputs(fund_pay_fen=200_000, audit_fen=150_000, daily_paid_fen=120_000))
    assert statement.gross_net_fen == 190_000 - 150_000 - 120_000
    assert statement.net_fen == -80_000


def test_returned_payments_are_owed_again() -> None:
    statement = compute(_inputs(returned_fen=800_000))
    assert statement.gross_net_fen == statement.net_fen == 800_000


@pytest.mark.parametrize(
    ("gross", "receivable", "offset", "net"),
    [
        (700_000, 0, 0, 700_000),  # nothing open
        (700_000, 200_000, 200_000, 500_000),  # the whole receivable
        (700_000, 700_000, 700_000, 0),  # exactly the gross: net zero, settled
        (700_000, 900_000, 700_000, 0),  # capped by the gross; 2,000.00 stays open
        (0, 900_000, 0, 0),  # zero gross takes nothing
        (-1, 900_000, 0, -1),  # negative gross takes nothing
        (1, 900_000, 1, 0),
    ],
)
def test_offset_is_capped_by_the_open_receivable_and_a_positive_gross(
    gross: int, receivable: int, offset: int, net: int
) -> None:
    statement = compute(_inputs(returned_fen=gross, open_receivable_fen=receivable))
    assert statement.gross_net_fen == gross
    assert (statement.offset_fen, statement.net_fen) == (offset, net)


def test_a_negative_open_receivable_is_refused() -> None:
    with pytest.raises(AssertionError):
        compute(_inputs(fund_pay_fen=100, open_receivable_fen=-1))


@pytest.mark.parametrize(
    ("net", "status"), [(1, "APPROVED"), (0, "SETTLED"), (-1, "RECEIVABLE"), (10**13, "APPROVED")]
)
def test_status_after_approval_follows_the_sign_of_net(net: int, status: str) -> None:
    assert status_after_approval(net) == status


# --- laws ---------------------------------------------------------------------------------

AMOUNTS = st.integers(min_value=0, max_value=FEN)
INPUTS = st.builds(
    Inputs,
    fund_pay_fen=st.integers(min_value=-FEN, max_value=FEN),
    deposit_rate_bp=st.integers(min_value=0, max_value=10_000),
    audit_fen=AMOUNTS,
    daily_paid_fen=AMOUNTS,
    procurement_fen=AMOUNTS,
    returned_fen=AMOUNTS,
    open_receivable_fen=AMOUNTS,
)


@settings(max_examples=150)
@given(INPUTS)
def test_components_sum_to_the_net(inputs: Inputs) -> None:
    s = compute(inputs)
    assert s.deposit_fen + s.ratio_amount_fen == s.fund_pay_fen == inputs.fund_pay_fen
    assert s.deposit_fen == _half_up(inputs.fund_pay_fen, inputs.deposit_rate_bp)
    assert (
        s.fund_pay_fen
        - s.deposit_fen
        - s.audit_fen
        - s.daily_paid_fen
        - s.procurement_fen
        + s.returned_fen
        - s.offset_fen
        == s.net_fen
    )
    assert (s.audit_fen, s.daily_paid_fen, s.procurement_fen, s.returned_fen) == (
        inputs.audit_fen,
        inputs.daily_paid_fen,
        inputs.procurement_fen,
        inputs.returned_fen,
    )


@settings(max_examples=150)
@given(INPUTS)
def test_offset_never_exceeds_the_receivable_nor_a_positive_gross(inputs: Inputs) -> None:
    s = compute(inputs)
    assert 0 <= s.offset_fen <= inputs.open_receivable_fen
    assert s.offset_fen <= max(s.gross_net_fen, 0)
    # the offset takes all it may: the receivable is used up or the net is zero
    assert s.offset_fen == inputs.open_receivable_fen or s.net_fen == min(s.gross_net_fen, 0)
    # an offset never turns a payment into a receivable, nor a receivable into a payment
    assert (s.net_fen < 0) == (s.gross_net_fen < 0)


@settings(max_examples=100)
@given(INPUTS, st.integers(min_value=1, max_value=FEN))
def test_more_audit_never_raises_the_net(inputs: Inputs, more: int) -> None:
    before = compute(inputs)
    after = compute(replace(inputs, audit_fen=inputs.audit_fen + more))
    assert after.net_fen <= before.net_fen
    assert after.gross_net_fen == before.gross_net_fen - more


def test_inputs_are_plain_integers_of_fen() -> None:
    """Money is integer fen inside (SPEC §2): never a float, whatever the rate."""
    statement = compute(_inputs(fund_pay_fen=333_333, deposit_rate_bp=333))
    assert all(type(value) is int for value in vars(statement).values())
