"""Annual clearing rules (SPEC §5): score bands, the return ratio and the clearing formula.

Scores are in hundredths of a point (85 -> 8500), ratios in basis points (0.60 -> 6000).
Expected values come from SPEC.md (§5, §7 worked example) and the public scenario's bands.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.annual.rules import Clearing, Inputs, band_ratio, compute, return_ratio
from app.monthly import rules as monthly

# The public scenario's 2026 rules (march-basic.json).
ASSESSMENT_BANDS = ((9000, 10_000), (0, 6000))
CREDIT_BANDS = ((0, 10_000),)
FEN = 10**11


def _inputs(**fields: int | None) -> Inputs:
    zero: dict[str, int | None] = {
        "fund_pay_fen": 0,
        "audit_fen": 0,
        "ratio_amount_fen": 0,
        "deposit_fen": 0,
        "confirmed_clearing_fen": None,
        "budget_fen": None,
        "return_ratio_bp": 10_000,
        "open_receivable_fen": 0,
    }
    return Inputs(**(zero | fields))  # type: ignore[arg-type]


def _year_of(statements: list[monthly.Statement], **fields: int | None) -> Inputs:
    """Annual inputs as SPEC §5 sums them over the statements of the year."""
    return _inputs(
        fund_pay_fen=sum(s.fund_pay_fen for s in statements),
        audit_fen=sum(s.audit_fen for s in statements),
        ratio_amount_fen=sum(s.ratio_amount_fen for s in statements),
        deposit_fen=sum(s.deposit_fen for s in statements),
        **fields,
    )


def _monthly(**fields: int) -> monthly.Statement:
    zero = {
        "fund_pay_fen": 0,
        "deposit_rate_bp": 500,
        "audit_fen": 0,
        "daily_paid_fen": 0,
        "procurement_fen": 0,
        "returned_fen": 0,
        "open_receivable_fen": 0,
    }
    return monthly.compute(monthly.Inputs(**(zero | fields)))


# --- bands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "ratio"),
    [
        (0, 6000),
        (8500, 6000),  # H001's assessment 85
        (8999, 6000),  # 89.99: just below the band
        (9000, 10_000),  # exactly min_score takes the band
        (9500, 10_000),  # H002's assessment 95
        (10_000, 10_000),
    ],
)
def test_a_score_takes_the_band_with_the_highest_min_score_not_above_it(
    score: int, ratio: int
) -> None:
    assert band_ratio(score, ASSESSMENT_BANDS) == ratio


def test_band_order_does_not_matter() -> None:
    bands = ((6000, 7000), (0, 3000), (9000, 10_000), (8000, 9000))
    assert band_ratio(5999, bands) == 3000
    assert band_ratio(6000, bands) == 7000
    assert band_ratio(8000, bands) == 9000
    assert band_ratio(8999, bands) == 9000
    assert band_ratio(9000, bands) == 10_000


def test_bands_need_not_rise_with_the_score() -> None:
    # the band decides, not the largest ratio among eligible bands
    bands = ((0, 10_000), (5000, 2000))
    assert band_ratio(4999, bands) == 10_000
    assert band_ratio(5000, bands) == 2000


def test_a_score_below_every_band_is_an_error() -> None:
    with pytest.raises(ValueError, match="no band"):
        band_ratio(5999, ((6000, 10_000),))
    with pytest.raises(ValueError, match="no band"):
        band_ratio(0, ())


def test_return_ratio_is_the_smaller_of_the_two_ratios() -> None:
    # SPEC §7: H001 (assessment 85, credit 92) gets 0.60; H002 (95, 90) gets 1.00
    assert return_ratio(8500, 9200, ASSESSMENT_BANDS, CREDIT_BANDS) == 6000
    assert return_ratio(9500, 9000, ASSESSMENT_BANDS, CREDIT_BANDS) == 10_000
    credit = ((0, 0), (6000, 5000))
    assert return_ratio(9500, 5999, ASSESSMENT_BANDS, credit) == 0
    assert return_ratio(9500, 6000, ASSESSMENT_BANDS, credit) == 5000
    assert return_ratio(8500, 6000, ASSESSMENT_BANDS, credit) == 5000
    with pytest.raises(ValueError):
        return_ratio(9500, 5000, ASSESSMENT_BANDS, ((6000, 10_000),))


BANDS = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)),
    min_size=1,
    max_size=8,
    unique_by=lambda band: band[0],
)


@settings(max_examples=100)
@given(BANDS, st.integers(0, 10_000))
def test_band_law(bands: list[tuple[int, int]], score: int) -> None:
    below = [band for band in bands if band[0] <= score]
    if not below:
        with pytest.raises(ValueError):
            band_ratio(score, bands)
        return
    best_min = max(min_score for min_score, _ in below)
    assert band_ratio(score, bands) == dict(bands)[best_min]
    assert band_ratio(score, list(reversed(bands))) == dict(bands)[best_min]


# --- the clearing formula -----------------------------------------------------------------


def test_worked_example_h001() -> None:
    """SPEC §7: confirmed 29,000.00; ratio 0.60 (forfeited 600.00 of 1,500.00);
    settled 28,000.01; actual 399.99. March is the only month with activity."""
    march = _monthly(
        fund_pay_fen=3_000_001, audit_fen=50_000, daily_paid_fen=2_000_001, procurement_fen=100_000
    )
    year = [_monthly() for _ in range(2)] + [march] + [_monthly() for _ in range(9)]
    ratio = return_ratio(8500, 9200, ASSESSMENT_BANDS, CREDIT_BANDS)
    clearing = compute(_year_of(year, confirmed_clearing_fen=2_900_000, return_ratio_bp=ratio))
    assert clearing == Clearing(
        approved_fund_fen=2_950_001,
        clearing_amount_fen=2_900_000,
        settled_fen=2_800_001,
        deposit_held_fen=150_000,
        return_ratio_bp=6000,
        forfeited_fen=60_000,
        gross_fen=39_999,
        offset_fen=0,
        actual_fen=39_999,
    )


def test_worked_example_h002_clears_at_approved_fund_by_default() -> None:
    """Public scenario: no confirmed amount, scores 95/90 -> 1.00; actual 250.00."""
    march = _monthly(fund_pay_fen=500_000)  # its daily payment failed: daily_paid 0
    ratio = return_ratio(9500, 9000, ASSESSMENT_BANDS, CREDIT_BANDS)
    clearing = compute(_year_of([march], return_ratio_bp=ratio))
    assert clearing.clearing_amount_fen == clearing.approved_fund_fen == 500_000
    assert (clearing.settled_fen, clearing.deposit_held_fen) == (475_000, 25_000)
    assert (clearing.forfeited_fen, clearing.actual_fen) == (0, 25_000)


def test_an_empty_year_clears_to_zero() -> None:
    clearing = compute(_inputs(open_receivable_fen=50_000, return_ratio_bp=6000))
    assert clearing == Clearing(0, 0, 0, 0, 6000, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("confirmed", "budget", "clearing"),
    [
        (None, None, 2_950_001),  # default: approved_fund
        (2_900_000, None, 2_900_000),  # the operator's confirmed amount
        (3_100_000, None, 3_100_000),  # may exceed approved_fund
        (None, 2_500_000, 2_500_000),  # approved_fund capped by the budget
        (None, 2_950_001, 2_950_001),  # the cap exactly
        (None, 3_000_000, 2_950_001),  # a budget above changes nothing
        (2_900_000, 2_800_000, 2_800_000),  # a confirmed amount is capped too (docs/rules.md)
        (2_900_000, 2_900_000, 2_900_000),
        (0, None, 0),  # a confirmed zero is a confirmed amount, not "none"
        (None, 0, 0),  # a zero budget is a budget
    ],
)
def test_clearing_amount_confirmed_or_approved_fund_capped_by_the_budget(
    confirmed: int | None, budget: int | None, clearing: int
) -> None:
    inputs = _inputs(
        fund_pay_fen=3_000_001,
        audit_fen=50_000,
        ratio_amount_fen=2_850_001,
        deposit_fen=150_000,
        confirmed_clearing_fen=confirmed,
        budget_fen=budget,
    )
    result = compute(inputs)
    assert result.approved_fund_fen == 2_950_001
    assert result.clearing_amount_fen == clearing
    assert result.gross_fen == clearing - 2_800_001  # ratio 1.00: nothing forfeited


@pytest.mark.parametrize(
    ("held", "ratio", "forfeited"),
    [
        (150_000, 6000, 60_000),
        (150_000, 10_000, 0),  # everything is returned
        (150_000, 0, 150_000),  # nothing is returned
        (1, 5000, 0),  # returned 0.005 -> 0.01: nothing forfeited
        (1, 4900, 1),  # returned 0.0049 -> 0.00
        (3, 5000, 1),  # returned 0.015 -> 0.02
        (0, 6000, 0),
        (-1, 5000, 0),  # a negative deposit (revocations) returns −0.005 -> −0.01
        (-3, 5000, -1),  # returned −0.015 -> −0.02, forfeited −0.01
    ],
)
def test_forfeited_is_held_minus_the_rounded_return(held: int, ratio: int, forfeited: int) -> None:
    clearing = compute(_inputs(deposit_fen=held, return_ratio_bp=ratio))
    assert clearing.deposit_held_fen == held
    assert clearing.forfeited_fen == forfeited


def test_a_negative_gross_is_owed_back_and_takes_no_offset() -> None:
    # the confirmed clearing amount is below what was settled during the year
    clearing = compute(
        _inputs(
            fund_pay_fen=1_000_000,
            ratio_amount_fen=950_000,
            deposit_fen=50_000,
            confirmed_clearing_fen=900_000,
            return_ratio_bp=10_000,
            open_receivable_fen=30_000,
        )
    )
    assert clearing.gross_fen == -50_000
    assert (clearing.offset_fen, clearing.actual_fen) == (0, -50_000)


@pytest.mark.parametrize(
    ("receivable", "offset", "actual"),
    [(0, 0, 39_999), (10_000, 10_000, 29_999), (39_999, 39_999, 0), (80_000, 39_999, 0)],
)
def test_offset_as_in_the_monthly_statement(receivable: int, offset: int, actual: int) -> None:
    inputs = _inputs(
        fund_pay_fen=3_000_001,
        audit_fen=50_000,
        ratio_amount_fen=2_850_001,
        deposit_fen=150_000,
        confirmed_clearing_fen=2_900_000,
        return_ratio_bp=6000,
        open_receivable_fen=receivable,
    )
    clearing = compute(inputs)
    assert (clearing.gross_fen, clearing.offset_fen, clearing.actual_fen) == (
        39_999,
        offset,
        actual,
    )


def test_a_negative_open_receivable_is_refused() -> None:
    with pytest.raises(AssertionError):
        compute(_inputs(open_receivable_fen=-1))


# --- laws ---------------------------------------------------------------------------------


@st.composite
def years(draw: st.DrawFn) -> Inputs:
    """Sums of real statements: audit ≤ fund_pay, ratio_amount + deposit = fund_pay."""
    statements = draw(
        st.lists(
            st.builds(
                lambda fund, rate, audit_share: _monthly(
                    fund_pay_fen=fund,
                    deposit_rate_bp=rate,
                    audit_fen=max(fund, 0) * audit_share // 100,
                ),
                st.integers(-FEN // 100, FEN),
                st.integers(0, 10_000),
                st.integers(0, 100),
            ),
            max_size=12,
        )
    )
    return _year_of(
        statements,
        confirmed_clearing_fen=draw(st.none() | st.integers(0, 12 * FEN)),
        budget_fen=draw(st.none() | st.integers(0, 12 * FEN)),
        return_ratio_bp=draw(st.integers(0, 10_000)),
        open_receivable_fen=draw(st.integers(0, FEN)),
    )


@settings(max_examples=150)
@given(years())
def test_clearing_laws(inputs: Inputs) -> None:
    c = compute(inputs)
    returned = c.deposit_held_fen - c.forfeited_fen
    expected_return = Decimal(inputs.deposit_fen) * inputs.return_ratio_bp / 10_000
    assert returned == int(expected_return.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert c.forfeited_fen + returned == c.deposit_held_fen == inputs.deposit_fen
    assert c.approved_fund_fen == inputs.fund_pay_fen - inputs.audit_fen
    assert c.settled_fen == inputs.ratio_amount_fen - inputs.audit_fen
    if inputs.budget_fen is not None:
        assert c.clearing_amount_fen <= inputs.budget_fen
    assert c.gross_fen == c.clearing_amount_fen - c.settled_fen - c.forfeited_fen
    assert 0 <= c.offset_fen <= inputs.open_receivable_fen
    assert c.offset_fen <= max(c.gross_fen, 0)
    assert c.actual_fen == c.gross_fen - c.offset_fen
    assert (c.actual_fen < 0) == (c.gross_fen < 0)
    # SPEC §6: once the clearing is paid the institution has received, over the year, what
    # the year's expense says: clearing_amount − forfeited (deposit returned included)
    assert c.settled_fen + c.gross_fen == c.clearing_amount_fen - c.forfeited_fen


@settings(max_examples=100)
@given(years(), st.integers(0, 10_000))
def test_a_higher_return_ratio_never_forfeits_more(inputs: Inputs, other: int) -> None:
    low, high = sorted((inputs.return_ratio_bp, other))
    forfeited_low = compute(replace(inputs, return_ratio_bp=low)).forfeited_fen
    forfeited_high = compute(replace(inputs, return_ratio_bp=high)).forfeited_fen
    assert abs(forfeited_high) <= abs(forfeited_low) <= abs(inputs.deposit_fen)
    assert forfeited_high * inputs.deposit_fen >= 0  # never of the other sign than the deposit
