"""Laws of the assistance computation (issue 21 item 4, A7, A8, A10) over generated
person-years: random policies (bands, deductibles, caps), categories held part of the year,
items of both visit types, per-item deductions and burden relief."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.assistance.policy import Band, Category, Holding, Item, Policy, Rule, Visit
from app.assistance.prepayment import prepayment
from app.assistance.recovery import Claim, Resolution, allocate_repayment, split_person_payment
from app.assistance.rules import Deduction, DeductionKind, YearResult, compute_year, spread_relief
from app.clock import SHANGHAI
from app.errors import Invalid

YEAR = 2026
START = datetime(YEAR, 1, 1, tzinfo=SHANGHAI)
FEN = st.integers(0, 5_000_000)  # up to 50,000.00 yuan
RATIO = st.integers(0, 10_000)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    starts = sorted(draw(st.sets(st.integers(1, 4_000_000), max_size=3)))
    bands = tuple(Band(start, draw(RATIO)) for start in [0, *starts])
    cap = draw(st.none() | st.integers(0, 6_000_000))
    return Rule(bands, deductible_fen=draw(st.integers(0, 500_000)), cap_fen=cap)


@st.composite
def policies(draw: st.DrawFn) -> list[Policy]:
    versions = []
    starts = sorted(draw(st.sets(st.integers(1, 364), max_size=2)))
    for offset in [0, *starts]:
        pairs = draw(
            st.sets(st.tuples(st.sampled_from(Category), st.sampled_from(Visit)), min_size=4)
        )
        versions.append(
            Policy(
                effective_from=date(YEAR, 1, 1) + timedelta(days=offset),
                rules={pair: draw(rules()) for pair in pairs},
            )
        )
    return versions


@st.composite
def holdings(draw: st.DrawFn) -> list[Holding]:
    result = []
    for category in draw(st.lists(st.sampled_from(Category), max_size=4)):
        start = date(YEAR, 1, 1) + timedelta(days=draw(st.integers(0, 364) | st.just(0)))
        end = draw(st.none() | st.integers(0, 200))
        result.append(Holding(category, start, None if end is None else start + timedelta(end)))
    return result


@st.composite
def items(draw: st.DrawFn, max_size: int = 8) -> list[Item]:
    count = draw(st.integers(0, max_size))
    result = []
    for index in range(count):
        # minutes within the year, few distinct values so that equal times occur
        minute = draw(st.sampled_from([0, 600, 86_400, 200_000, 400_000, 525_000]))
        result.append(
            Item(
                f"K{draw(st.integers(0, 99)):02d}-{index}",
                START + timedelta(minutes=minute),
                draw(st.sampled_from(Visit)),
                draw(FEN),
            )
        )
    return result


@dataclass(frozen=True)
class Case:
    items: list[Item]
    holdings: list[Holding]
    policies: list[Policy]
    deductions: list[Deduction]

    def compute(self, items: list[Item] | None = None) -> YearResult:
        chosen = self.items if items is None else items
        keys = {item.key for item in chosen}
        return compute_year(
            YEAR,
            chosen,
            holdings=self.holdings,
            policies=self.policies,
            deductions=[d for d in self.deductions if d.item_key is None or d.item_key in keys],
        )


@st.composite
def cases(draw: st.DrawFn, relief: bool = True) -> Case:
    generated = draw(items())
    deductions = []
    for item in generated:
        if draw(st.booleans()):
            kind = draw(st.sampled_from(list(DeductionKind)[:3]))
            deductions.append(Deduction(kind, draw(st.integers(1, 3_000_000)), item_key=item.key))
    if relief:
        for amount in draw(st.lists(st.integers(1, 3_000_000), max_size=2)):
            deductions.append(Deduction(DeductionKind.BURDEN_RELIEF, amount, year=YEAR))
    return Case(generated, draw(holdings()), draw(policies()), deductions)


@settings(max_examples=120, deadline=None)
@given(cases())
def test_due_never_exceeds_the_bases(case: Case) -> None:
    result = case.compute()
    assert result.due_fen == sum(item.amount_fen for item in result.items)
    assert 0 <= result.due_fen <= result.base_fen <= sum(i.gross_base_fen for i in case.items)
    for item in result.items:
        assert 0 <= item.amount_fen <= item.base_fen
        assert item.base_fen == item.gross_base_fen - item.deducted_fen - item.relief_fen


@settings(max_examples=120, deadline=None)
@given(cases())
def test_a_cap_is_never_passed(case: Case) -> None:
    result = case.compute()
    assistance = 0
    for item in result.items:
        if item.amount_fen > 0:
            assert item.category is not None
            policy = max(
                (p for p in case.policies if p.effective_from <= item.at.date()),
                key=lambda p: p.effective_from,
            )
            chosen = policy.rule(item.category, item.visit)
            assert chosen is not None, "only a listed category pays"
            if chosen.cap_fen is not None:
                assert assistance + item.amount_fen <= chosen.cap_fen
        assistance += item.amount_fen


@settings(max_examples=120, deadline=None)
@given(cases(relief=False), st.data())
def test_without_relief_adding_an_item_never_lowers_earlier_items(
    case: Case, data: st.DataObject
) -> None:
    after = data.draw(items(max_size=1).filter(bool))[0]
    added = Item(f"new-{after.key}", after.at, after.visit, after.gross_base_fen)
    before = case.compute()
    with_added = case.compute([*case.items, added])
    amounts = {item.key: item.amount_fen for item in with_added.items}
    for item in before.items:
        if (item.at, item.key) < (added.at, added.key):
            assert amounts[item.key] >= item.amount_fen


@settings(max_examples=120, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_the_order_items_are_given_in_does_not_matter(case: Case, random: Random) -> None:
    shuffled = list(case.items)
    random.shuffle(shuffled)
    deductions = list(case.deductions)
    random.shuffle(deductions)
    assert (
        case.compute(shuffled) == Case(shuffled, case.holdings, case.policies, deductions).compute()
    )
    assert case.compute() == case.compute(shuffled)


@settings(max_examples=300, deadline=None)
@given(st.lists(FEN, max_size=10), st.integers(0, 60_000_000))
def test_the_relief_spread_sums_to_what_can_be_spread(bases: list[int], relief: int) -> None:
    shares = spread_relief(bases, relief)
    assert len(shares) == len(bases)
    assert sum(shares) == min(relief, sum(bases))
    for share, base in zip(shares, bases, strict=True):
        assert 0 <= share <= base  # never a negative base
        # proportional to the fen: within one fen of the exact share
        assert abs(share * sum(bases) - min(relief, sum(bases)) * base) <= max(0, sum(bases) - 1)


@settings(max_examples=200, deadline=None)
@given(FEN, st.integers(-100_000, 5_000_000), RATIO)
def test_prepayment_rounds_once_and_never_transfers_below_zero(
    actual: int, carried: int, rate: int
) -> None:
    result = prepayment(2027, actual_fen=actual, carried_fen=carried, rate_bp=rate)
    assert abs(result.due_fen * 10_000 - actual * rate) <= 5_000
    assert result.transfer_fen == max(0, result.due_fen - carried)


CLAIMS = st.lists(
    st.builds(
        Claim,
        key=st.text("ABC", min_size=1, max_size=3),
        at=st.sampled_from([START, START + timedelta(days=40), START + timedelta(days=90)]),
        resolution=st.sampled_from(Resolution),
        open_fen=st.integers(0, 300_000),
        notice_delivered=st.booleans(),
    ),
    max_size=6,
    unique_by=lambda claim: claim.key,
)


@settings(max_examples=200, deadline=None)
@given(CLAIMS, st.integers(0, 1_000_000))
def test_a_payment_deducts_only_delivered_next_period_claims(
    claims: list[Claim], amount: int
) -> None:
    split = split_person_payment(amount, claims)
    eligible = {
        c.key: c for c in claims if c.resolution is Resolution.NEXT_PERIOD and c.notice_delivered
    }
    assert split.deducted_fen == min(amount, sum(c.open_fen for c in eligible.values()))
    assert split.paid_fen == amount - split.deducted_fen
    for recovery in split.recoveries:
        assert 0 < recovery.amount_fen <= eligible[recovery.claim_key].open_fen


@settings(max_examples=200, deadline=None)
@given(CLAIMS, st.integers(1, 2_000_000))
def test_a_repayment_settles_cash_claims_first(claims: list[Claim], amount: int) -> None:
    total = sum(c.open_fen for c in claims)
    if amount > total:
        with pytest.raises(Invalid) as refused:
            allocate_repayment(amount, claims)
        assert refused.value.errors[0].rule == "repayment_beyond_receivable"
        return
    recoveries = allocate_repayment(amount, claims)
    assert sum(r.amount_fen for r in recoveries) == amount
    by_key = {c.key: c for c in claims}
    taken_next = any(by_key[r.claim_key].resolution is Resolution.NEXT_PERIOD for r in recoveries)
    if taken_next:
        cash_open = sum(c.open_fen for c in claims if c.resolution is Resolution.CASH)
        cash_taken = sum(
            r.amount_fen for r in recoveries if by_key[r.claim_key].resolution is Resolution.CASH
        )
        assert cash_taken == cash_open
    for recovery in recoveries:
        assert 0 < recovery.amount_fen <= by_key[recovery.claim_key].open_fen
