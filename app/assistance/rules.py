"""Pure rules of the medical-assistance fund (SPEC-ASSISTANCE.md A4, A7, A8, A10).

No database, no clock, no I/O: the service reads the records, turns them into the plain values
below and calls these functions. Money is integer fen; ratios are basis points; the only
roundings are the ones the spec names (an item's amount, the prepayment's due), each done once,
half away from zero (SPEC.md §2). Decisions the spec left open are in docs/rules.md, "Medical
assistance". The inputs (categories, items, policy) are in app/assistance/policy.py, the
clearing and recovery in app/assistance/recovery.py, the prepayment in
app/assistance/prepayment.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from app.assistance.policy import (
    _CATEGORY_RANK,
    Band,
    Category,
    Holding,
    Item,
    Policy,
    Rule,
    Visit,
    categories_on,
    item_order,
    policy_in_force,
)
from app.money import BP_PER_UNIT, MAX_FEN, round_half_up

# Limits (STYLE.md 6): beyond them the data is wrong, not large.
ITEMS_PER_PERSON_YEAR_MAX = 10_000


# --- One item's amount (A4) ----------------------------------------------------------------


def band_amount(bands: Sequence[Band], lo_fen: int, hi_fen: int) -> int:
    """Σ over bands of |[lo, hi) ∩ band| × ratio, rounded ONCE half-up to the fen."""
    assert 0 <= lo_fen <= hi_fen
    total = 0  # fen × basis points, exact
    for index, band in enumerate(bands):
        start = max(lo_fen, band.from_fen)
        stop = hi_fen if index + 1 == len(bands) else min(hi_fen, bands[index + 1].from_fen)
        if stop > start:
            total += (stop - start) * band.ratio_bp
    amount = round_half_up(Decimal(total) / BP_PER_UNIT)
    assert 0 <= amount <= hi_fen - lo_fen, "a ratio never pays more than the base"
    return amount


def item_amount(
    rule: Rule | None, *, base_fen: int, year_base_fen: int, year_assistance_fen: int
) -> int:
    """What one category pays for one item, given `B` (the year's base so far of the item's
    visit type) and `A` (the year's assistance so far, all visit types); 0 without a rule."""
    assert base_fen >= 0 and year_base_fen >= 0 and year_assistance_fen >= 0
    if rule is None:
        return 0
    lo = max(0, year_base_fen - rule.deductible_fen)
    hi = max(0, year_base_fen + base_fen - rule.deductible_fen)
    amount = band_amount(rule.bands, lo, hi)
    if rule.cap_fen is not None:
        amount = max(0, min(amount, rule.cap_fen - year_assistance_fen))
    return amount


def best_category(options: Sequence[tuple[Category, int]]) -> tuple[Category | None, int]:
    """就高不重复: the category that pays most; ties go to the earlier in A2's order.
    (None, 0) when the person holds no category."""
    if not options:
        return None, 0
    ranked = sorted(options, key=lambda option: (-option[1], _CATEGORY_RANK[option[0]]))
    return ranked[0]


# --- Deductions (A7) -----------------------------------------------------------------------


class DeductionKind(StrEnum):
    CRITICAL_ILLNESS = "critical_illness"  # 大病保险
    MUTUAL_AID = "mutual_aid"  # 职工医疗互助
    OTHER = "other"
    BURDEN_RELIEF = "burden_relief"  # 综合减负: per person-year, spread last


@dataclass(frozen=True)
class Deduction:
    """A per-item deduction names its item's key; burden relief names a year instead."""

    kind: DeductionKind
    amount_fen: int
    item_key: str | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        assert 0 < self.amount_fen <= MAX_FEN, "a deduction is a positive amount"
        if self.kind is DeductionKind.BURDEN_RELIEF:
            assert self.year is not None and self.item_key is None, "relief names a year"
        else:
            assert self.item_key and self.year is None, "a per-item deduction names its item"


def spread_relief(bases_fen: Sequence[int], relief_fen: int) -> tuple[int, ...]:
    """Burden relief over bases in proportion to them (A7), in fen by largest remainder; ties
    to the earlier base (the sequence is in item order). Spreads min(relief, Σ bases), so no
    share exceeds its base."""
    assert relief_fen >= 0 and all(base >= 0 for base in bases_fen)
    total_base = sum(bases_fen)
    spread = min(relief_fen, total_base)
    if spread == 0:
        return tuple(0 for _ in bases_fen)
    floors_and_remainders = [divmod(spread * base, total_base) for base in bases_fen]
    shares = [floor for floor, _ in floors_and_remainders]
    left = spread - sum(shares)
    by_remainder = sorted(
        range(len(bases_fen)), key=lambda index: (-floors_and_remainders[index][1], index)
    )
    for index in by_remainder[:left]:
        shares[index] += 1
    assert sum(shares) == spread and all(
        share <= base for share, base in zip(shares, bases_fen, strict=True)
    )
    return tuple(shares)


# --- A person-year (A4 + A7) ---------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    """One item as computed: base = gross − per-item deductions (floored at 0) − relief share."""

    key: str
    at: datetime
    visit: Visit
    gross_base_fen: int
    deducted_fen: int  # per-item deductions taken (never more than the gross base)
    relief_fen: int  # this item's share of burden relief
    base_fen: int
    options: tuple[tuple[Category, int], ...]  # each category held on its day and its amount
    category: Category | None  # the one chosen (None: no category held that day)
    amount_fen: int


@dataclass(frozen=True)
class YearResult:
    year: int
    items: tuple[ItemResult, ...]  # in A4's order
    relief_fen: int  # Σ burden-relief records of the year
    relief_spread_fen: int  # what was spread: min(relief, Σ bases after the other deductions)
    due_fen: int

    @property
    def base_fen(self) -> int:
        return sum(item.base_fen for item in self.items)

    def amount_of(self, key: str) -> int:
        return next(item.amount_fen for item in self.items if item.key == key)


def _after_item_deductions(
    year: int, ordered: Sequence[Item], deductions: Sequence[Deduction]
) -> tuple[list[int], int]:
    """(each item's base after its per-item deductions, floored at 0 once; Σ relief)."""
    keys = {item.key for item in ordered}
    per_item: dict[str, int] = {}
    relief = 0
    for deduction in deductions:
        if deduction.kind is DeductionKind.BURDEN_RELIEF:
            assert deduction.year == year, "relief of another year"
            relief += deduction.amount_fen
        else:
            key = deduction.item_key
            assert key in keys, f"a deduction names no item: {key}"
            per_item[key] = per_item.get(key, 0) + deduction.amount_fen
    return [max(0, item.gross_base_fen - per_item.get(item.key, 0)) for item in ordered], relief


def _options(
    item: Item,
    base_fen: int,
    policy: Policy | None,
    held: Sequence[Category],
    *,
    year_base_fen: int,
    year_assistance_fen: int,
) -> tuple[tuple[Category, int], ...]:
    """What each category held on the item's day would pay for it, given B and A."""
    return tuple(
        (
            category,
            item_amount(
                policy.rule(category, item.visit) if policy is not None else None,
                base_fen=base_fen,
                year_base_fen=year_base_fen,
                year_assistance_fen=year_assistance_fen,
            ),
        )
        for category in held
    )


def compute_year(
    year: int,
    items: Sequence[Item],
    *,
    holdings: Sequence[Holding],
    policies: Sequence[Policy],
    deductions: Sequence[Deduction] = (),
) -> YearResult:
    """Due of one person-year, afresh from everything known (A4, A7). `policies` are the
    versions of the person's region; `deductions` must concern this year's items or year."""
    assert len(items) <= ITEMS_PER_PERSON_YEAR_MAX, "too many items in one person-year"
    ordered = sorted(items, key=item_order)
    assert len({item.key for item in ordered}) == len(ordered), "item keys are unique"
    assert all(item.year == year for item in ordered), "every item is of the year"
    after, relief = _after_item_deductions(year, ordered, deductions)
    shares = spread_relief(after, relief)  # last, over the bases the other deductions left
    year_base = dict.fromkeys(Visit, 0)  # B per visit type
    assistance = 0  # A, every visit type and category
    results = []
    for item, base_after, share in zip(ordered, after, shares, strict=True):
        base = base_after - share
        options = _options(
            item,
            base,
            policy_in_force(policies, item.day),
            categories_on(holdings, item.day),
            year_base_fen=year_base[item.visit],
            year_assistance_fen=assistance,
        )
        category, amount = best_category(options)
        results.append(
            ItemResult(
                key=item.key,
                at=item.at,
                visit=item.visit,
                gross_base_fen=item.gross_base_fen,
                deducted_fen=item.gross_base_fen - base_after,
                relief_fen=share,
                base_fen=base,
                options=options,
                category=category,
                amount_fen=amount,
            )
        )
        year_base[item.visit] += base
        assistance += amount
    result = YearResult(year, tuple(results), relief, sum(shares), assistance)
    assert 0 <= result.due_fen <= result.base_fen, "assistance never exceeds the bases"
    return result


def compute_person(
    items: Sequence[Item],
    *,
    holdings: Sequence[Holding],
    policies: Sequence[Policy],
    deductions: Sequence[Deduction] = (),
) -> dict[int, YearResult]:
    """Every person-year of one person: the years of its items and of its relief records.
    A per-item deduction naming no item is a ValueError (the service refuses it first: 404)."""
    years_of_items = {item.key: item.year for item in items}
    by_year: dict[int, list[Deduction]] = {}
    for deduction in deductions:
        if deduction.kind is DeductionKind.BURDEN_RELIEF:
            assert deduction.year is not None
            year = deduction.year
        elif deduction.item_key in years_of_items:
            year = years_of_items[deduction.item_key]
        else:
            raise ValueError(f"the deduction names no item: {deduction.item_key}")
        by_year.setdefault(year, []).append(deduction)
    years = sorted(set(years_of_items.values()) | set(by_year))
    return {
        year: compute_year(
            year,
            [item for item in items if item.year == year],
            holdings=holdings,
            policies=policies,
            deductions=by_year.get(year, ()),
        )
        for year in years
    }


def marginal(
    existing: Sequence[Item],
    added: Sequence[Item],
    *,
    holdings: Sequence[Holding],
    policies: Sequence[Policy],
    deductions: Sequence[Deduction] = (),
) -> dict[int, int]:
    """An application's amount per year of its invoices (A6): due with them − due without,
    never below 0. Deductions naming an added invoice count only in "with"."""
    added_keys = {item.key for item in added}
    assert not added_keys & {item.key for item in existing}, "invoices are new items"
    without_deductions = [d for d in deductions if d.item_key not in added_keys]
    with_all = compute_person(
        [*existing, *added], holdings=holdings, policies=policies, deductions=deductions
    )
    without = compute_person(
        existing, holdings=holdings, policies=policies, deductions=without_deductions
    )
    amounts = {}
    for year in sorted({item.year for item in added}):
        before = without[year].due_fen if year in without else 0
        amounts[year] = max(0, with_all[year].due_fen - before)
    return amounts


# --- Burden reminder (A8) ------------------------------------------------------------------


def burden_line_exceeded(self_paid_fen: int, income_fen: int, burden_line_bp: int) -> bool:
    """综合减负提醒: the year's self-paid cost exceeds burden_line × last year's income
    (compared exactly, no rounding)."""
    assert self_paid_fen >= 0 and income_fen >= 0 and burden_line_bp >= 0
    return self_paid_fen * BP_PER_UNIT > income_fen * burden_line_bp
