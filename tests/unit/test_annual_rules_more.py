"""More edges of the annual clearing rules (SPEC §5; docs/rules.md "Annual clearing").

Complements tests/unit/test_annual_rules.py. Scores are hundredths of a point (85 -> 8500),
ratios basis points (0.60 -> 6000). Expected values are worked out from SPEC.md by hand.
The rules module is imported as a module so the tests follow the functions inside it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.annual import rules

FEN = 10**11


def _inputs(**fields: int | None) -> rules.Inputs:
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
    return rules.Inputs(**(zero | fields))  # type: ignore[arg-type]


def _returned(held: int, ratio_bp: int) -> int:
    """round(deposit_held × return_ratio), SPEC §2 half away from zero, written independently."""
    exact = Decimal(held) * Decimal(ratio_bp) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- bands (SPEC §5: the band with the highest min_score not above the score) --------------


@pytest.mark.parametrize(
    ("score", "ratio"),
    [
        (0, 0),  # the lowest score takes the band at 0
        (5999, 0),
        (6000, 5000),
        (7999, 5000),
        (8000, 8000),
        (10_000, 10_000),  # 100.00: the top band starts at it
    ],
)
def test_band_edges_with_a_band_starting_at_the_top_score(score: int, ratio: int) -> None:
    bands = ((0, 0), (6000, 5000), (8000, 8000), (10_000, 10_000))
    assert rules.band_ratio(score, bands) == ratio


def test_a_single_band_at_zero_covers_every_score() -> None:
    # docs/rules.md: each list must have a band starting at 0, so every score takes a band
    for score in (0, 1, 5000, 9999, 10_000):
        assert rules.band_ratio(score, ((0, 7000),)) == 7000


def test_a_band_above_every_possible_score_is_never_taken() -> None:
    assert rules.band_ratio(10_000, ((0, 6000), (10_001, 10_000))) == 6000


def test_a_score_one_hundredth_below_the_first_band_is_refused() -> None:
    with pytest.raises(ValueError, match="no band"):
        rules.band_ratio(1, ((2, 10_000),))


BANDS_FROM_ZERO = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(0, 10_000)),
    max_size=6,
    unique_by=lambda band: band[0],
).flatmap(lambda rest: st.integers(0, 10_000).map(lambda first: [(0, first), *rest]))


@settings(max_examples=150)
@given(BANDS_FROM_ZERO, BANDS_FROM_ZERO, st.integers(0, 10_000), st.integers(0, 10_000))
def test_return_ratio_law(
    assessment_bands: list[tuple[int, int]],
    credit_bands: list[tuple[int, int]],
    assessment: int,
    credit: int,
) -> None:
    """With a band at 0 every score is covered; the return ratio is the smaller of the two
    ratios, whichever list gives it (SPEC §5)."""
    by_assessment = rules.band_ratio(assessment, assessment_bands)
    by_credit = rules.band_ratio(credit, credit_bands)
    ratio = rules.return_ratio(assessment, credit, assessment_bands, credit_bands)
    assert ratio == min(by_assessment, by_credit)
    assert rules.return_ratio(credit, assessment, credit_bands, assessment_bands) == ratio
    assert 0 <= ratio <= 10_000


# --- the clearing formula (SPEC §5) -------------------------------------------------------


def test_a_budget_below_what_was_settled_is_owed_back() -> None:
    # settled 9,500.00 during the year; the annual budget is 9,000.00: 500.00 owed back
    clearing = rules.compute(
        _inputs(
            fund_pay_fen=1_000_000,
            ratio_amount_fen=950_000,
            deposit_fen=50_000,
            budget_fen=900_000,
            open_receivable_fen=70_000,
        )
    )
    assert clearing.clearing_amount_fen == 900_000
    assert (clearing.gross_fen, clearing.offset_fen, clearing.actual_fen) == (-50_000, 0, -50_000)


def test_return_ratio_zero_forfeits_the_whole_deposit() -> None:
    # approved 10,000.00, settled 9,500.00, deposit 500.00 all forfeited: nothing more to pay
    clearing = rules.compute(
        _inputs(
            fund_pay_fen=1_000_000, ratio_amount_fen=950_000, deposit_fen=50_000, return_ratio_bp=0
        )
    )
    assert (clearing.forfeited_fen, clearing.gross_fen, clearing.actual_fen) == (50_000, 0, 0)


def test_a_year_with_only_a_revocation_follows_the_formula_with_negative_amounts() -> None:
    # a revocation of −1,000.00 landed in the year's only statement (SPEC §4: negative amount):
    # deposit −50.00, ratio_amount −950.00; return 0.60: returned −30.00, forfeited −20.00
    clearing = rules.compute(
        _inputs(
            fund_pay_fen=-100_000,
            ratio_amount_fen=-95_000,
            deposit_fen=-5_000,
            return_ratio_bp=6000,
        )
    )
    assert clearing.approved_fund_fen == clearing.clearing_amount_fen == -100_000
    assert clearing.settled_fen == -95_000
    assert clearing.forfeited_fen == -2_000
    assert clearing.gross_fen == -100_000 + 95_000 + 2_000
    assert clearing.actual_fen == -3_000


@pytest.mark.parametrize(
    ("held", "ratio", "forfeited"),
    [
        (150_001, 6000, 60_000),  # returned 90,000.6 -> 90,001
        (5, 5000, 2),  # returned 2.5 -> 3 (banker's rounding would give 2, forfeiting 3)
        (-5, 5000, -2),  # returned −2.5 -> −3
        (7, 5000, 3),  # returned 3.5 -> 4
        (1, 1, 1),  # returned 0.0001 -> 0
        (1, 9999, 0),  # returned 0.9999 -> 1
        (10**13 + 1, 5000, 5 * 10**12),  # returned 5e12 + 0.5 -> 5e12 + 1, exact at size
    ],
)
def test_the_returned_deposit_rounds_half_away_from_zero(
    held: int, ratio: int, forfeited: int
) -> None:
    # SPEC §5: forfeited = deposit_held − round(deposit_held × return_ratio); §2 rounding
    assert held - _returned(held, ratio) == forfeited  # the table agrees with SPEC §2
    clearing = rules.compute(_inputs(deposit_fen=held, return_ratio_bp=ratio))
    assert clearing.forfeited_fen == forfeited


@pytest.mark.parametrize("ratio", [-1, 10_001])
def test_a_return_ratio_outside_zero_to_one_is_refused(ratio: int) -> None:
    # docs/rules.md Money: ratios are decimals in [0, 1]
    with pytest.raises(AssertionError):
        rules.compute(_inputs(deposit_fen=150_000, return_ratio_bp=ratio))


def test_a_zero_budget_caps_a_confirmed_amount_to_zero() -> None:
    clearing = rules.compute(
        _inputs(
            fund_pay_fen=100,
            ratio_amount_fen=95,
            deposit_fen=5,
            confirmed_clearing_fen=200,
            budget_fen=0,
        )
    )
    assert clearing.clearing_amount_fen == 0
    assert clearing.gross_fen == -95


# --- laws ---------------------------------------------------------------------------------


@st.composite
def years(draw: st.DrawFn) -> rules.Inputs:
    """Sums over statements as SPEC §4 makes them: ratio_amount + deposit = fund_pay,
    audit ≤ fund_pay of positive months."""
    fund_pay = draw(st.integers(-FEN // 100, 12 * FEN))
    deposit = draw(st.integers(0, abs(fund_pay))) * (1 if fund_pay >= 0 else -1)
    audit = draw(st.integers(0, max(fund_pay, 0)))
    return _inputs(
        fund_pay_fen=fund_pay,
        audit_fen=audit,
        ratio_amount_fen=fund_pay - deposit,
        deposit_fen=deposit,
        confirmed_clearing_fen=draw(st.none() | st.integers(0, 12 * FEN)),
        budget_fen=draw(st.none() | st.integers(0, 12 * FEN)),
        return_ratio_bp=draw(st.integers(0, 10_000)),
        open_receivable_fen=draw(st.integers(0, FEN)),
    )


@settings(max_examples=150)
@given(years())
def test_by_default_the_clearing_pays_back_the_returned_deposit(inputs: rules.Inputs) -> None:
    """No confirmed amount, no budget: approved_fund − settled is the deposit held, so the
    clearing pays exactly round(deposit_held × return_ratio) (SPEC §5 formulas)."""
    plain = replace(inputs, confirmed_clearing_fen=None, budget_fen=None, open_receivable_fen=0)
    clearing = rules.compute(plain)
    assert clearing.clearing_amount_fen == clearing.approved_fund_fen
    assert clearing.gross_fen == _returned(inputs.deposit_fen, inputs.return_ratio_bp)
    assert clearing.actual_fen == clearing.gross_fen


@settings(max_examples=150)
@given(years())
def test_clearing_amount_is_confirmed_or_approved_capped_by_budget(inputs: rules.Inputs) -> None:
    clearing = rules.compute(inputs)
    chosen = (
        inputs.confirmed_clearing_fen
        if inputs.confirmed_clearing_fen is not None
        else inputs.fund_pay_fen - inputs.audit_fen
    )
    expected = chosen if inputs.budget_fen is None else min(chosen, inputs.budget_fen)
    assert clearing.clearing_amount_fen == expected
    # confirming exactly the approved fund changes nothing
    same = replace(inputs, confirmed_clearing_fen=clearing.approved_fund_fen)
    if inputs.confirmed_clearing_fen is None:
        assert rules.compute(same) == clearing


@settings(max_examples=150)
@given(years(), st.integers(0, 12 * FEN))
def test_a_lower_budget_never_pays_more(inputs: rules.Inputs, budget: int) -> None:
    capped = rules.compute(replace(inputs, budget_fen=budget))
    uncapped = rules.compute(replace(inputs, budget_fen=None))
    assert capped.clearing_amount_fen <= uncapped.clearing_amount_fen
    assert capped.gross_fen <= uncapped.gross_fen
    assert capped.actual_fen <= uncapped.actual_fen


@settings(max_examples=150)
@given(years())
def test_nothing_is_paid_before_the_receivable_is_used_up(inputs: rules.Inputs) -> None:
    c = rules.compute(inputs)
    if c.actual_fen > 0:
        assert c.offset_fen == inputs.open_receivable_fen
    if c.offset_fen > 0:
        assert c.actual_fen >= 0
    if inputs.deposit_fen >= 0:
        assert 0 <= c.forfeited_fen <= inputs.deposit_fen
