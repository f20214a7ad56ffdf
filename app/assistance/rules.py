"""Pure rules of the medical-assistance fund (SPEC-ASSISTANCE.md A4, A7, A8, A10).

No database, no clock, no I/O: the service reads the records, turns them into the plain values
below and calls these functions. Money is integer fen; ratios are basis points; the only
roundings are the ones the spec names (an item's amount, the prepayment's due), each done once,
half away from zero (SPEC.md §2). Decisions the spec left open are in docs/rules.md, "Medical
assistance".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from app.clock import at_shanghai, business_date
from app.errors import Conflict, Invalid
from app.money import BP_PER_UNIT, MAX_FEN, apply_ratio, round_half_up
from app.states import Machine
from app.workdays.rules import DAYS_OFF_IN_A_ROW_MAX, CalendarError

# Limits (STYLE.md 6): beyond them the data is wrong, not large.
ITEMS_PER_PERSON_YEAR_MAX = 10_000
BANDS_PER_RULE_MAX = 20
CLAIMS_PER_PERSON_MAX = 10_000


# --- Categories and visit types ------------------------------------------------------------


class Category(StrEnum):
    """A recipient's category (A2). The declaration order is the tie order of 就高不重复."""

    TEKUN = "tekun"  # 特困供养人员
    ORPHAN = "orphan"  # 孤儿
    DIBAO = "dibao"  # 低保对象
    LOW_INCOME = "low_income"  # 低收入
    POVERTY_REGISTERED = "poverty_registered"  # 建档立卡贫困人口
    EXPENSE_POVERTY = "expense_poverty"  # 支出型贫困 / 因病致贫


_CATEGORY_RANK = {category: rank for rank, category in enumerate(Category)}


class Visit(StrEnum):
    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"


def visit_of(med_type: str) -> Visit:
    """A4: `inpatient` when the national `med_type` starts with 2 (住院), else `outpatient`."""
    return Visit.INPATIENT if med_type.startswith("2") else Visit.OUTPATIENT


@dataclass(frozen=True)
class Holding:
    """One category a person holds: `valid_to` is the last day held (inclusive); None = open."""

    category: Category
    valid_from: date
    valid_to: date | None = None

    def __post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise Invalid.field("valid_to", "valid_to_before_from", "valid_to before valid_from")

    def holds_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def categories_on(holdings: Iterable[Holding], day: date) -> tuple[Category, ...]:
    """The distinct categories held on a day, in A2's order (the tie order)."""
    held = {holding.category for holding in holdings if holding.holds_on(day)}
    return tuple(sorted(held, key=_CATEGORY_RANK.__getitem__))


# --- Items and their bases -----------------------------------------------------------------


@dataclass(frozen=True)
class Insurers:
    """What the insurers paid on one item (A3's fields, fen): everyone before assistance."""

    hifp_fen: int = 0  # 统筹基金
    hifob_fen: int = 0  # 职工大额
    hifmi_fen: int = 0  # 居民大病保险
    cvlserv_fen: int = 0  # 公务员医疗补助
    hifes_fen: int = 0  # 企业补充医疗保险
    oth_fen: int = 0  # 其他 (e.g. 扶贫保险)

    def __post_init__(self) -> None:
        assert all(amount >= 0 for amount in self.amounts()), "payments are >= 0"

    def amounts(self) -> tuple[int, ...]:
        return (
            self.hifp_fen,
            self.hifob_fen,
            self.hifmi_fen,
            self.cvlserv_fen,
            self.hifes_fen,
            self.oth_fen,
        )

    def total_fen(self) -> int:
        return sum(self.amounts())


NO_INSURER = Insurers()


def gross_base(inscp_scp_fen: int, insurers: Insurers = NO_INSURER) -> int:
    """A4's base before deductions: the policy-range cost left after every insurance
    (保险在先、救助在后), never below 0. `maf_pay` is not a payer here: it is the assistance."""
    assert inscp_scp_fen >= 0
    return max(0, inscp_scp_fen - insurers.total_fen())


def self_paid(medfee_sumamt_fen: int, insurers: Insurers = NO_INSURER, maf_fen: int = 0) -> int:
    """A8's self-paid cost of one item: the total less every payer, assistance included
    (`acct_pay` and cash are the person's own), never below 0."""
    assert medfee_sumamt_fen >= 0 and maf_fen >= 0
    return max(0, medfee_sumamt_fen - insurers.total_fen() - maf_fen)


def invoice_time(day: date) -> datetime:
    """An invoice's item date-time: its date at 00:00 Shanghai time (A10)."""
    return at_shanghai(day, time(0))


@dataclass(frozen=True)
class Item:
    """An assistance-bearing record of one person: a settlement or an application's invoice.

    `key` is unique per person and breaks ties of `at` (the service forms it, e.g.
    `S:<fixmedins_code>:<setl_id>` or `I:<invoice_no>`); `at` is offset-aware (the settlement's
    `setl_time`, or `invoice_time(date)`)."""

    key: str
    at: datetime
    visit: Visit
    gross_base_fen: int

    def __post_init__(self) -> None:
        assert self.key, "an item has a key"
        assert self.at.tzinfo is not None, "item times are offset-aware"
        assert 0 <= self.gross_base_fen <= MAX_FEN, "a base is 0..MAX_FEN fen"

    @property
    def day(self) -> date:
        """The Shanghai date: it picks the policy, the categories and the year."""
        return business_date(self.at)

    @property
    def year(self) -> int:
        return self.day.year


def item_order(item: Item) -> tuple[datetime, str]:
    """A4's order within a person-year: (date-time, key)."""
    return (item.at, item.key)


# --- Policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """From `from_fen` of the year's base above the deductible, `ratio_bp` is paid."""

    from_fen: int
    ratio_bp: int


@dataclass(frozen=True)
class Rule:
    """What one category pays for one visit type: bands, yearly deductible, yearly cap.

    `cap_fen` None is 不设 (no cap); `deductible_fen` 0 is 不设. The bands start at 0 and rise
    strictly; each ratio lies in [0, 1]."""

    bands: tuple[Band, ...]
    deductible_fen: int = 0
    cap_fen: int | None = None

    def __post_init__(self) -> None:
        if not self.bands or self.bands[0].from_fen != 0:
            raise Invalid.field("bands", "bands_from_zero", "the first band starts at 0.00")
        if len(self.bands) > BANDS_PER_RULE_MAX:
            raise Invalid.field("bands", "bands_max", f"at most {BANDS_PER_RULE_MAX} bands")
        starts = [band.from_fen for band in self.bands]
        if any(later <= earlier for earlier, later in pairwise(starts)):
            raise Invalid.field("bands", "bands_increasing", "band starts rise strictly")
        if any(not 0 <= band.ratio_bp <= BP_PER_UNIT for band in self.bands):
            raise Invalid.field("bands", "ratio_range", "a ratio lies in [0, 1]")
        if not 0 <= self.deductible_fen <= MAX_FEN:
            raise Invalid.field("deductible", "amount_non_negative", "the deductible is >= 0")
        if self.cap_fen is not None and not 0 <= self.cap_fen <= MAX_FEN:
            raise Invalid.field("cap", "amount_non_negative", "the cap is >= 0 or null")


@dataclass(frozen=True)
class Policy:
    """One effective-dated version of a region's assistance policy (A4, A6, A8).

    `rules` maps (category, visit type) to its rule; an absent pair pays 0. `prepayment_day`
    is (month, day) of the year prepaid. `care_grant_diseases` empty means any disease.
    (Not hashable: it holds a mapping; compare versions by `effective_from`.)"""

    effective_from: date
    rules: Mapping[tuple[Category, Visit], Rule] = field(default_factory=dict)
    burden_line_bp: int = 4000
    prepayment_rate_bp: int = 2500
    prepayment_day: tuple[int, int] = (1, 10)
    care_grant_fen: int = 500_000
    care_grant_diseases: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        month, day = self.prepayment_day
        date(2001, month, day)  # a day of every year (no 29 February): ValueError otherwise
        assert self.burden_line_bp >= 0 and 0 <= self.prepayment_rate_bp <= BP_PER_UNIT
        assert 0 <= self.care_grant_fen <= MAX_FEN

    def rule(self, category: Category, visit: Visit) -> Rule | None:
        return self.rules.get((category, visit))


def policy_in_force(versions: Iterable[Policy], on: date) -> Policy | None:
    """The version with the latest `effective_from` not after `on`; None before the first."""
    current: Policy | None = None
    for version in versions:
        if version.effective_from <= on and (
            current is None or version.effective_from > current.effective_from
        ):
            current = version
    return current


def parse_month_day(text: str) -> tuple[int, int]:
    """ "01-10" -> (1, 10); a day that every year has (so not "02-29"), else 422."""
    parts = text.split("-")
    if len(parts) != 2 or not all(len(part) == 2 and part.isdigit() for part in parts):
        raise Invalid.field("prepayment_day", "month_day_format", 'a day such as "01-10"')
    month, day = int(parts[0]), int(parts[1])
    try:
        date(2001, month, day)
    except ValueError:
        raise Invalid.field("prepayment_day", "month_day_format", "no such day") from None
    return month, day


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


# --- Individual clearing (A7, A10) ---------------------------------------------------------


def granted(*, maf_pay_fen: int, applications_fen: int, clearings_fen: int) -> int:
    """Granted of a person-year: Σ maf_pay of unrevoked settlements + Σ application amounts
    (before deduction, rejected ones out) + Σ earlier clearing results (signed)."""
    assert maf_pay_fen >= 0 and applications_fen >= 0
    return maf_pay_fen + applications_fen + clearings_fen


def difference(due_fen: int, granted_fen: int) -> int:
    """清算结果差额 = 应救助金额 − 实际救助金额: > 0 owed to the person, < 0 owed by them."""
    return due_fen - granted_fen


class ClearingMode(StrEnum):
    REALTIME = "realtime"  # 实时清算
    ANNUAL = "annual"  # 定时清算


class Resolution(StrEnum):
    NEXT_PERIOD = "next_period"  # 下期抵扣
    CASH = "cash"  # 现金追款


def clearing_resolution(
    difference_fen: int, *, mode: ClearingMode, requested: Resolution | None = None
) -> Resolution | None:
    """The resolution a clearing result carries (A10): None unless negative; a negative
    annual result is always `next_period`; a real-time one takes the requested (default
    `next_period`). A real-time clearing of a zero difference is refused (409)."""
    if mode is ClearingMode.REALTIME and difference_fen == 0:
        raise Conflict("the difference is zero: nothing to clear", code="nothing-to-clear")
    if difference_fen >= 0:
        return None
    if mode is ClearingMode.ANNUAL:
        return Resolution.NEXT_PERIOD
    return requested or Resolution.NEXT_PERIOD


@dataclass(frozen=True)
class Claim:
    """An open negative clearing result of a person (a part of the person receivable)."""

    key: str  # the clearing's reference
    at: datetime  # when the result was made: oldest first
    resolution: Resolution
    open_fen: int
    notice_delivered: bool = False

    def __post_init__(self) -> None:
        assert self.open_fen >= 0 and self.at.tzinfo is not None


@dataclass(frozen=True)
class Recovery:
    claim_key: str
    amount_fen: int


def _take(amount_fen: int, claims: Iterable[Claim]) -> tuple[Recovery, ...]:
    """Each claim in turn reduced by as much as is left (the same fen both sides)."""
    recoveries = []
    left = amount_fen
    for claim in claims:
        if left == 0:
            break
        taken = min(left, claim.open_fen)
        if taken > 0:
            recoveries.append(Recovery(claim.key, taken))
            left -= taken
    return tuple(recoveries)


def _oldest_first(claims: Iterable[Claim]) -> list[Claim]:
    ordered = sorted(claims, key=lambda claim: (claim.at, claim.key))
    assert len(ordered) <= CLAIMS_PER_PERSON_MAX
    return ordered


@dataclass(frozen=True)
class PaymentSplit:
    """A person payment (application, top-up, grant) after 下期抵扣: paid = amount − deducted."""

    amount_fen: int
    deducted_fen: int
    paid_fen: int
    recoveries: tuple[Recovery, ...]


def split_person_payment(amount_fen: int, claims: Sequence[Claim]) -> PaymentSplit:
    """A6/A10: deduct only from `next_period` claims whose notice is delivered, oldest first;
    `cash` claims and undelivered notices are never deducted from a payment."""
    assert amount_fen >= 0
    deductible = [
        claim
        for claim in _oldest_first(claims)
        if claim.resolution is Resolution.NEXT_PERIOD and claim.notice_delivered
    ]
    recoveries = _take(amount_fen, deductible)
    deducted = sum(recovery.amount_fen for recovery in recoveries)
    split = PaymentSplit(amount_fen, deducted, amount_fen - deducted, recoveries)
    assert 0 <= split.paid_fen <= amount_fen
    return split


def allocate_repayment(amount_fen: int, claims: Sequence[Claim]) -> tuple[Recovery, ...]:
    """A cash repayment (A10): cash claims first, then next-period ones (notice delivered or
    not), oldest first within each; more than the open receivable is refused (422)."""
    assert amount_fen > 0, "a repayment is positive"
    ordered = _oldest_first(claims)
    open_total = sum(claim.open_fen for claim in ordered)
    if amount_fen > open_total:
        raise Invalid.field(
            "amount",
            "repayment_beyond_receivable",
            f"the person owes {open_total} fen; the repayment is {amount_fen} fen",
        )
    cash_first = [c for c in ordered if c.resolution is Resolution.CASH] + [
        c for c in ordered if c.resolution is not Resolution.CASH
    ]
    recoveries = _take(amount_fen, cash_first)
    assert sum(recovery.amount_fen for recovery in recoveries) == amount_fen
    return recoveries


# --- Burden reminder and prepayment (A8) ---------------------------------------------------


def burden_line_exceeded(self_paid_fen: int, income_fen: int, burden_line_bp: int) -> bool:
    """综合减负提醒: the year's self-paid cost exceeds burden_line × last year's income
    (compared exactly, no rounding)."""
    assert self_paid_fen >= 0 and income_fen >= 0 and burden_line_bp >= 0
    return self_paid_fen * BP_PER_UNIT > income_fen * burden_line_bp


class PrepaymentStatus(StrEnum):
    COMPUTED = "COMPUTED"  # stays here after the first of the two approvals
    APPROVED = "APPROVED"  # two accountants approved, with the finance bureau's reference
    RECEIVED = "RECEIVED"  # the transfer arrived (or a zero transfer was recorded)


PREPAYMENT = Machine(
    "a prepayment",
    {
        PrepaymentStatus.COMPUTED: {PrepaymentStatus.APPROVED},
        PrepaymentStatus.APPROVED: {PrepaymentStatus.RECEIVED},
        PrepaymentStatus.RECEIVED: set(),
    },
)
PREPAYMENT_APPROVALS_NEEDED = 2


@dataclass(frozen=True)
class Prepayment:
    year: int
    actual_fen: int  # the year before's assistance expense
    rate_bp: int
    due_fen: int  # actual × rate, rounded once
    carried_fen: int  # bank:R:610 at the end of the year before (年末余额结转)
    transfer_fen: int  # max(0, due − carried) (抵减预付款额度)


def prepayment(year: int, *, actual_fen: int, carried_fen: int, rate_bp: int) -> Prepayment:
    """A8: due = actual × rate_bp / 10000 rounded once half-up; transfer = max(0, due −
    carried)."""
    due = apply_ratio(actual_fen, rate_bp)
    result = Prepayment(year, actual_fen, rate_bp, due, carried_fen, max(0, due - carried_fen))
    assert result.transfer_fen >= 0
    return result


def prepayment_applies(fund_on_from: date, year: int) -> bool:
    """A10: only a region whose 610 fund was on before 1 January of the year prepaid."""
    return fund_on_from < date(year, 1, 1)


def prepayment_date(
    year: int, month_day: tuple[int, int], is_working_day: Callable[[date], bool]
) -> date:
    """The first working day on or after the policy's prepayment day of the year."""
    month, day = month_day
    start = date(year, month, day)
    for offset in range(DAYS_OFF_IN_A_ROW_MAX + 1):
        candidate = start + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    raise CalendarError(f"no working day within {DAYS_OFF_IN_A_ROW_MAX} days of {start}")
