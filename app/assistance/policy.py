"""The inputs of the medical-assistance rules (SPEC-ASSISTANCE.md A2-A4): categories, visit
types, items and their bases, bands, rules and the policy.

Plain values, no database, no clock, no I/O; moved out of app/assistance/rules.py as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from itertools import pairwise

from app.clock import at_shanghai, business_date
from app.errors import Invalid
from app.money import BP_PER_UNIT, MAX_FEN

# Limits (STYLE.md 6): beyond them the data is wrong, not large.
BANDS_PER_RULE_MAX = 20


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
    """ "01-10" -> (1, 10); a day of January (A8: the prepayment is computed in January),
    else 422."""
    parts = text.split("-")
    if len(parts) != 2 or not all(len(part) == 2 and part.isdigit() for part in parts):
        raise Invalid.field("prepayment_day", "month_day_format", 'a day such as "01-10"')
    month, day = int(parts[0]), int(parts[1])
    try:
        date(2001, month, day)
    except ValueError:
        raise Invalid.field("prepayment_day", "month_day_format", "no such day") from None
    if month != 1:
        # A8: the prepayment of year Y is computed in January of Y (found by review: a
        # December day computed it at the end of the year it was meant to fund)
        raise Invalid.field("prepayment_day", "prepayment_in_january", 'a day of January: "01-DD"')
    return month, day
