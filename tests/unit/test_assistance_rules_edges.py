"""Edges of the assistance computation: zero bases, a deductible above the base, a cap already
reached, a category the policy does not list, days without a category, policy versions, the
empty year, relief beyond the bases, refusals and the small helpers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest

from app.assistance.policy import (
    Band,
    Category,
    Holding,
    Insurers,
    Item,
    Policy,
    Rule,
    Visit,
    categories_on,
    gross_base,
    invoice_time,
    parse_month_day,
    policy_in_force,
    self_paid,
    visit_of,
)
from app.assistance.prepayment import PREPAYMENT, PrepaymentStatus, prepayment, prepayment_applies
from app.assistance.recovery import (
    Claim,
    ClearingMode,
    Resolution,
    allocate_repayment,
    clearing_resolution,
    granted,
    split_person_payment,
)
from app.assistance.rules import (
    Deduction,
    DeductionKind,
    YearResult,
    band_amount,
    burden_line_exceeded,
    compute_person,
    compute_year,
    marginal,
    spread_relief,
)
from app.clock import SHANGHAI
from app.errors import Conflict, Invalid
from app.states import IllegalTransition

INPATIENT, OUTPATIENT = Visit.INPATIENT, Visit.OUTPATIENT
DIBAO, LOW_INCOME, TEKUN, ORPHAN = (
    Category.DIBAO,
    Category.LOW_INCOME,
    Category.TEKUN,
    Category.ORPHAN,
)

POLICY = Policy(
    effective_from=date(2026, 1, 1),
    rules={
        (DIBAO, INPATIENT): Rule((Band(0, 8000),), cap_fen=1_000_000),
        (LOW_INCOME, INPATIENT): Rule((Band(0, 7000),), deductible_fen=100_000),
        (TEKUN, INPATIENT): Rule((Band(0, 10_000),)),
        (ORPHAN, INPATIENT): Rule((Band(0, 10_000),)),
    },
)
ALL_YEAR = date(2026, 1, 1)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=SHANGHAI)


def year(
    items: list[Item], held: list[Holding], deductions: Sequence[Deduction] = ()
) -> YearResult:
    return compute_year(2026, items, holdings=held, policies=[POLICY], deductions=deductions)


def test_the_empty_year_is_due_nothing() -> None:
    result = year([], [Holding(DIBAO, ALL_YEAR)])
    assert (result.items, result.due_fen, result.relief_spread_fen) == ((), 0, 0)
    relief = Deduction(DeductionKind.BURDEN_RELIEF, 10_000, year=2026)
    only_relief = compute_person([], holdings=[], policies=[POLICY], deductions=[relief])
    assert only_relief[2026].due_fen == 0 and only_relief[2026].relief_spread_fen == 0


def test_a_zero_base_pays_nothing_and_moves_nothing() -> None:
    zero, then = Item("a", at(2, 1), INPATIENT, 0), Item("b", at(3, 1), INPATIENT, 200_000)
    result = year([zero, then], [Holding(LOW_INCOME, ALL_YEAR)])
    assert [item.amount_fen for item in result.items] == [0, 70_000]  # 2,000 − 1,000 at 70 %


def test_a_deductible_above_the_base_pays_nothing_but_counts_towards_it() -> None:
    first, second = Item("a", at(2, 1), INPATIENT, 60_000), Item("b", at(3, 1), INPATIENT, 60_000)
    result = year([first, second], [Holding(LOW_INCOME, ALL_YEAR)])
    # deductible 1,000.00: the first 600.00 pay 0, the next 600.00 pay 70 % of the 200.00 above
    assert [item.amount_fen for item in result.items] == [0, 14_000]


def test_a_cap_already_reached_pays_zero_and_a_cap_cuts_the_item_that_reaches_it() -> None:
    items = [Item(key, at(month, 1), INPATIENT, 1_000_000) for key, month in (("a", 2), ("b", 3))]
    items.append(Item("c", at(4, 1), INPATIENT, 1_000_000))
    result = year(items, [Holding(DIBAO, ALL_YEAR)])
    # 80 % of 10,000.00 = 8,000.00; the cap 10,000.00 leaves 2,000.00, then nothing
    assert [item.amount_fen for item in result.items] == [800_000, 200_000, 0]
    assert result.items[2].category == DIBAO


def test_a_cap_counts_assistance_of_every_category() -> None:
    # tekun (no cap) paid 12,000.00 in March; from April only dibao (cap 10,000.00) is held
    held = [Holding(TEKUN, ALL_YEAR, date(2026, 3, 31)), Holding(DIBAO, date(2026, 4, 1))]
    items = [Item("a", at(3, 1), INPATIENT, 1_200_000), Item("b", at(5, 1), INPATIENT, 100_000)]
    assert [item.amount_fen for item in year(items, held).items] == [1_200_000, 0]


def test_a_category_the_policy_does_not_list_pays_zero() -> None:
    expense = Category.EXPENSE_POVERTY
    item = Item("a", at(2, 1), INPATIENT, 100_000)
    alone = year([item], [Holding(expense, ALL_YEAR)]).items[0]
    assert (alone.category, alone.amount_fen, alone.options) == (expense, 0, ((expense, 0),))
    with_dibao = year([item], [Holding(expense, ALL_YEAR), Holding(DIBAO, ALL_YEAR)]).items[0]
    assert (with_dibao.category, with_dibao.amount_fen) == (DIBAO, 80_000)
    outpatient = Item("o", at(2, 1), OUTPATIENT, 100_000)  # dibao lists inpatient only
    assert year([outpatient], [Holding(DIBAO, ALL_YEAR)]).due_fen == 0


def test_ties_go_to_the_earlier_category_of_a2() -> None:
    item = Item("a", at(2, 1), INPATIENT, 100_000)
    chosen = year([item], [Holding(ORPHAN, ALL_YEAR), Holding(TEKUN, ALL_YEAR)]).items[0]
    assert (chosen.category, chosen.amount_fen) == (TEKUN, 100_000)


def test_a_day_without_a_category_pays_zero_but_counts_in_the_years_base() -> None:
    policy = Policy(
        date(2026, 1, 1), {(DIBAO, INPATIENT): Rule((Band(0, 8000), Band(2_000_000, 9000)))}
    )
    held = [Holding(DIBAO, date(2026, 4, 1))]
    items = [
        Item("s1", at(3, 10), INPATIENT, 1_000_000),
        Item("s2", at(5, 20), INPATIENT, 1_500_000),
    ]
    result = compute_year(2026, items, holdings=held, policies=[policy])
    assert [(i.category, i.amount_fen) for i in result.items] == [(None, 0), (DIBAO, 1_250_000)]


def test_valid_to_is_inclusive_and_open_ended_holdings_never_end() -> None:
    held = [Holding(DIBAO, date(2026, 1, 1), date(2026, 3, 31)), Holding(TEKUN, date(2026, 6, 1))]
    assert categories_on(held, date(2026, 3, 31)) == (DIBAO,)
    assert categories_on(held, date(2026, 4, 1)) == ()
    assert categories_on(held, date(2099, 1, 1)) == (TEKUN,)


def test_the_policy_in_force_on_the_items_day() -> None:
    later = Policy(date(2026, 7, 1), {(DIBAO, INPATIENT): Rule((Band(0, 5000),))})
    assert policy_in_force([later, POLICY], date(2025, 12, 31)) is None
    assert policy_in_force([later, POLICY], date(2026, 6, 30)) is POLICY
    assert policy_in_force([later, POLICY], date(2026, 7, 1)) is later
    items = [Item("a", at(6, 30), INPATIENT, 100_000), Item("b", at(7, 1), INPATIENT, 100_000)]
    result = compute_year(
        2026, items, holdings=[Holding(DIBAO, ALL_YEAR)], policies=[later, POLICY]
    )
    assert [item.amount_fen for item in result.items] == [80_000, 50_000]
    before_any = compute_year(2026, items, holdings=[Holding(DIBAO, ALL_YEAR)], policies=[])
    assert before_any.due_fen == 0


def test_an_items_day_is_its_shanghai_date() -> None:
    # 2026-12-31 17:00 UTC is 2027-01-01 01:00 in Shanghai: an item of 2027
    late = Item("a", datetime.fromisoformat("2026-12-31T17:00:00+00:00"), INPATIENT, 100)
    assert (late.day, late.year) == (date(2027, 1, 1), 2027)
    assert invoice_time(date(2026, 8, 10)) == datetime(2026, 8, 10, tzinfo=SHANGHAI)
    assert Item("i", invoice_time(date(2026, 1, 1)), OUTPATIENT, 1).year == 2026
    assert (visit_of("21"), visit_of("2101"), visit_of("11"), visit_of("14")) == (
        INPATIENT,
        INPATIENT,
        OUTPATIENT,
        OUTPATIENT,
    )


def test_amounts_are_rounded_once_over_the_bands() -> None:
    # 1 fen at 50 % in each of two bands: 0.5 + 0.5 = 1 fen (per band it would be 1 + 1)
    bands = (Band(0, 5000), Band(1, 5000))
    assert band_amount(bands, 0, 2) == 1
    assert band_amount((Band(0, 5000),), 0, 1) == 1  # half up
    assert band_amount((Band(0, 4999),), 0, 1) == 0


def test_per_item_deductions_floor_the_base_at_zero_and_add_up() -> None:
    item = Item("a", at(2, 1), INPATIENT, 100_000)
    deductions = [
        Deduction(DeductionKind.MUTUAL_AID, 30_000, item_key="a"),
        Deduction(DeductionKind.OTHER, 30_000, item_key="a"),
    ]
    once = year([item], [Holding(TEKUN, ALL_YEAR)], deductions=deductions).items[0]
    assert (once.deducted_fen, once.base_fen, once.amount_fen) == (60_000, 40_000, 40_000)
    too_much = [Deduction(DeductionKind.CRITICAL_ILLNESS, 500_000, item_key="a")]
    floored = year([item], [Holding(TEKUN, ALL_YEAR)], deductions=too_much).items[0]
    assert (floored.deducted_fen, floored.base_fen, floored.amount_fen) == (100_000, 0, 0)


def test_relief_beyond_the_bases_is_spread_up_to_their_total() -> None:
    items = [Item("a", at(2, 1), INPATIENT, 30_000), Item("b", at(3, 1), INPATIENT, 10_000)]
    reliefs = [Deduction(DeductionKind.BURDEN_RELIEF, 25_000, year=2026) for _ in range(2)]
    result = year(items, [Holding(TEKUN, ALL_YEAR)], deductions=reliefs)
    assert (result.relief_fen, result.relief_spread_fen, result.due_fen) == (50_000, 40_000, 0)
    assert [item.base_fen for item in result.items] == [0, 0]


def test_relief_records_are_added_then_spread_once() -> None:
    # spread separately, 1 fen twice over three equal bases would give the first base 2 fen
    assert spread_relief([100, 100, 100], 2) == (1, 1, 0)
    assert spread_relief([100, 100, 100], 1) == (1, 0, 0)  # ties: the earlier item
    assert spread_relief([0, 0], 5) == (0, 0)
    assert spread_relief([], 5) == ()


def test_relief_goes_to_items_in_computation_order_not_given_order() -> None:
    late, early = Item("z", at(9, 1), INPATIENT, 100), Item("y", at(2, 1), INPATIENT, 100)
    relief = [Deduction(DeductionKind.BURDEN_RELIEF, 1, year=2026)]
    result = year([late, early], [Holding(TEKUN, ALL_YEAR)], deductions=relief)
    assert [(item.key, item.relief_fen) for item in result.items] == [("y", 1), ("z", 0)]


def test_equal_times_are_ordered_by_key() -> None:
    items = [Item("b", at(2, 1), INPATIENT, 1_000_000), Item("a", at(2, 1), INPATIENT, 1_000_000)]
    result = year(items, [Holding(DIBAO, ALL_YEAR)])
    assert [(item.key, item.amount_fen) for item in result.items] == [
        ("a", 800_000),
        ("b", 200_000),
    ]


def test_deductions_must_name_a_known_item() -> None:
    stray = Deduction(DeductionKind.OTHER, 100, item_key="nope")
    with pytest.raises(ValueError, match="nope"):
        compute_person([], holdings=[], policies=[POLICY], deductions=[stray])


def test_marginal_is_never_below_zero_and_covers_each_year_of_the_invoices() -> None:
    held = [Holding(DIBAO, ALL_YEAR)]
    existing = [Item("s", at(2, 1), INPATIENT, 1_300_000)]  # 10,400.00 capped at 10,000.00
    capped = Item("i", invoice_time(date(2026, 3, 1)), INPATIENT, 100_000)
    nxt = Item("j", invoice_time(date(2027, 3, 1)), INPATIENT, 100_000)
    amounts = marginal(existing, [capped, nxt], holdings=held, policies=[POLICY])
    assert amounts == {2026: 0, 2027: 80_000}
    # an invoice dated before an item moves the bands: the difference of the two dues
    earlier = Item("e", invoice_time(date(2026, 1, 15)), INPATIENT, 100_000)
    assert marginal(existing, [earlier], holdings=held, policies=[POLICY]) == {2026: 0}


def test_invalid_rules_are_refused() -> None:
    for bands in [(), (Band(100, 5000),), (Band(0, 5000), Band(0, 6000)), (Band(0, 10_001),)]:
        with pytest.raises(Invalid):
            Rule(bands)
    with pytest.raises(Invalid):
        Rule((Band(0, 5000),), deductible_fen=-1)
    with pytest.raises(Invalid):
        Rule((Band(0, 5000),), cap_fen=-1)
    with pytest.raises(Invalid):
        Holding(DIBAO, date(2026, 2, 1), date(2026, 1, 31))


def test_month_day_parsing() -> None:
    assert parse_month_day("01-10") == (1, 10)
    assert parse_month_day("01-31") == (1, 31)
    for text in ["1-10", "02-29", "13-01", "01/10", "0110", "", "01-32"]:
        with pytest.raises(Invalid):
            parse_month_day(text)
    for text in ["12-10", "03-01"]:
        with pytest.raises(Invalid) as refused:
            parse_month_day(text)
        assert refused.value.errors[0].rule == "prepayment_in_january"


def test_clearing_resolution() -> None:
    realtime, annual = ClearingMode.REALTIME, ClearingMode.ANNUAL
    with pytest.raises(Conflict):
        clearing_resolution(0, mode=realtime)
    assert clearing_resolution(0, mode=annual) is None
    assert clearing_resolution(50_000, mode=realtime, requested=Resolution.CASH) is None
    assert clearing_resolution(-1, mode=realtime) is Resolution.NEXT_PERIOD
    assert clearing_resolution(-1, mode=realtime, requested=Resolution.CASH) is Resolution.CASH
    assert clearing_resolution(-1, mode=annual, requested=Resolution.CASH) is (
        Resolution.NEXT_PERIOD
    )
    assert granted(maf_pay_fen=2_000_000, applications_fen=60_000, clearings_fen=-130_000) == (
        1_930_000
    )


def test_recovery_refusals_and_exclusions() -> None:
    old = Claim("C1", at(2, 1), Resolution.NEXT_PERIOD, 10_000, notice_delivered=False)
    cash = Claim("C2", at(3, 1), Resolution.CASH, 10_000, notice_delivered=True)
    split = split_person_payment(50_000, [old, cash])  # undelivered and cash: nothing deducted
    assert (split.deducted_fen, split.paid_fen, split.recoveries) == (0, 50_000, ())
    with pytest.raises(Invalid) as refused:
        allocate_repayment(20_001, [old, cash])
    assert refused.value.errors[0].rule == "repayment_beyond_receivable"
    recoveries = allocate_repayment(20_000, [old, cash])  # undelivered next-period claims too
    assert [(r.claim_key, r.amount_fen) for r in recoveries] == [("C2", 10_000), ("C1", 10_000)]
    newer = Claim("C0", at(4, 1), Resolution.NEXT_PERIOD, 5_000, notice_delivered=True)
    delivered_old = Claim("C9", at(1, 5), Resolution.NEXT_PERIOD, 5_000, notice_delivered=True)
    split = split_person_payment(7_000, [newer, delivered_old])  # oldest first, not by key
    assert [(r.claim_key, r.amount_fen) for r in split.recoveries] == [("C9", 5_000), ("C0", 2_000)]


def test_burden_line_and_self_paid() -> None:
    paid = self_paid(100_000, Insurers(hifp_fen=50_000), maf_fen=30_000)
    assert paid == 20_000
    assert self_paid(100_000, Insurers(oth_fen=90_000), maf_fen=30_000) == 0  # floored
    assert gross_base(100_000, Insurers(*range(1, 7))) == 100_000 - 21
    assert not burden_line_exceeded(800_000, 2_000_000, 4000)  # exactly 40 %: not beyond
    assert burden_line_exceeded(800_001, 2_000_000, 4000)
    assert burden_line_exceeded(1, 0, 4000)


def test_prepayment_edges() -> None:
    assert prepayment_applies(date(2026, 1, 1), 2027)
    assert not prepayment_applies(date(2027, 1, 1), 2027)
    covered = prepayment(2027, actual_fen=1_000_000, carried_fen=300_000, rate_bp=2500)
    assert (covered.due_fen, covered.transfer_fen) == (250_000, 0)
    assert prepayment(2027, actual_fen=0, carried_fen=0, rate_bp=2500).transfer_fen == 0
    # 25 % of 0.02 = 0.005 -> 0.01 (half up); of 0.01 = 0.0025 -> 0.00
    assert prepayment(2027, actual_fen=2, carried_fen=0, rate_bp=2500).due_fen == 1
    assert prepayment(2027, actual_fen=1, carried_fen=0, rate_bp=2500).due_fen == 0


def test_the_years_base_runs_per_visit_type() -> None:
    # an outpatient item does not use up the inpatient deductible of 1,000.00
    items = [Item("o", at(2, 1), OUTPATIENT, 100_000), Item("i", at(3, 1), INPATIENT, 100_000)]
    result = year(items, [Holding(LOW_INCOME, ALL_YEAR)])
    assert [item.amount_fen for item in result.items] == [0, 0]
    later = Item("j", at(4, 1), INPATIENT, 100_000)  # the next inpatient 1,000.00 pays 70 %
    assert year([*items, later], [Holding(LOW_INCOME, ALL_YEAR)]).amount_of("j") == 70_000


def test_an_invoice_that_lowers_the_due_has_a_marginal_amount_of_zero() -> None:
    # falling ratios (allowed): an invoice of a day before the person held a category pays 0
    # but counts in B, pushing the later item into the 50 % band
    falling = Policy(
        date(2026, 1, 1), {(DIBAO, INPATIENT): Rule((Band(0, 8000), Band(100_000, 5000)))}
    )
    held = [Holding(DIBAO, date(2026, 3, 1))]
    existing = [Item("s", at(3, 10), INPATIENT, 100_000)]
    invoice = Item("i", invoice_time(date(2026, 2, 1)), INPATIENT, 100_000)
    years = [
        compute_person(group, holdings=held, policies=[falling])
        for group in (existing, [*existing, invoice])
    ]
    assert (years[0][2026].due_fen, years[1][2026].due_fen) == (80_000, 50_000)
    assert marginal(existing, [invoice], holdings=held, policies=[falling]) == {2026: 0}


def test_the_prepayment_goes_computed_approved_received_only() -> None:
    PREPAYMENT.check(PrepaymentStatus.COMPUTED, PrepaymentStatus.APPROVED)
    PREPAYMENT.check(PrepaymentStatus.APPROVED, PrepaymentStatus.RECEIVED)
    for current, new in [
        ("COMPUTED", "RECEIVED"),
        ("RECEIVED", "COMPUTED"),
        ("APPROVED", "COMPUTED"),
    ]:
        with pytest.raises(IllegalTransition):
            PREPAYMENT.check(current, new)
    assert PREPAYMENT.final() == {PrepaymentStatus.RECEIVED}
