"""The assistance computation against SPEC-ASSISTANCE.md A9's worked example, to the fen:
rows 1-2 (bands, 就高不重复), 4 (a per-item deduction), 6 (an application's marginal amount),
7 (burden relief spread by largest remainder), the recovery of rows 5-9 and the 2027
prepayment worked by hand."""

from __future__ import annotations

from datetime import date, datetime

from app.assistance.policy import (
    Band,
    Category,
    Holding,
    Insurers,
    Item,
    Policy,
    Rule,
    Visit,
    gross_base,
    invoice_time,
)
from app.assistance.prepayment import prepayment, prepayment_date
from app.assistance.recovery import (
    Claim,
    Resolution,
    allocate_repayment,
    difference,
    split_person_payment,
)
from app.assistance.rules import (
    Deduction,
    DeductionKind,
    YearResult,
    compute_person,
    compute_year,
    marginal,
)
from app.clock import SHANGHAI
from app.money import to_fen
from app.workdays.rules import WorkCalendar

INPATIENT, OUTPATIENT = Visit.INPATIENT, Visit.OUTPATIENT
DIBAO, LOW_INCOME, TEKUN = Category.DIBAO, Category.LOW_INCOME, Category.TEKUN


def rule(bands: list[tuple[str, int]], deductible: str = "0.00", cap: str | None = None) -> Rule:
    return Rule(
        bands=tuple(Band(to_fen(start), ratio_bp) for start, ratio_bp in bands),
        deductible_fen=to_fen(deductible),
        cap_fen=None if cap is None else to_fen(cap),
    )


# A9's policy, in force all of 2026.
POLICY_2026 = Policy(
    effective_from=date(2026, 1, 1),
    rules={
        (DIBAO, INPATIENT): rule([("0.00", 8000), ("20000.00", 9000)], cap="30000.00"),
        (DIBAO, OUTPATIENT): rule([("0.00", 6000)], cap="30000.00"),
        (LOW_INCOME, INPATIENT): rule([("0.00", 7000)], deductible="1000.00", cap="20000.00"),
        (LOW_INCOME, OUTPATIENT): rule([("0.00", 5000)], cap="20000.00"),
        (TEKUN, INPATIENT): rule([("0.00", 10000)]),
        (TEKUN, OUTPATIENT): rule([("0.00", 10000)]),
    },
)
POLICIES = [POLICY_2026]
# P1 holds dibao and low_income all year.
P1 = [Holding(DIBAO, date(2026, 1, 1)), Holding(LOW_INCOME, date(2026, 1, 1))]


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def settlement(key: str, when: datetime, inscp: str, hifp: str, hifmi: str) -> Item:
    insurers = Insurers(hifp_fen=to_fen(hifp), hifmi_fen=to_fen(hifmi))
    return Item(key, when, INPATIENT, gross_base(to_fen(inscp), insurers))


S1 = settlement("S:H001:S1", at(3, 10), "30000.00", "18000.00", "2000.00")
S2 = settlement("S:H001:S2", at(5, 20), "40000.00", "22000.00", "3000.00")
A1 = Item(
    "I:A1-INV1",
    invoice_time(date(2026, 8, 10)),
    OUTPATIENT,
    gross_base(to_fen("1000.00")),
)
CRITICAL_ON_S1 = Deduction(DeductionKind.CRITICAL_ILLNESS, to_fen("2000.00"), item_key=S1.key)
RELIEF_2026 = Deduction(DeductionKind.BURDEN_RELIEF, to_fen("1000.00"), year=2026)


def year_2026(items: list[Item], deductions: list[Deduction] | None = None) -> YearResult:
    return compute_year(2026, items, holdings=P1, policies=POLICIES, deductions=deductions or [])


def test_bases_are_what_insurance_leaves() -> None:
    assert (S1.gross_base_fen, S2.gross_base_fen, A1.gross_base_fen) == (
        to_fen("10000.00"),
        to_fen("15000.00"),
        to_fen("1000.00"),
    )


def test_row_1_dibao_pays_more_than_low_income() -> None:
    result = year_2026([S1])
    (s1,) = result.items
    assert dict(s1.options) == {DIBAO: to_fen("8000.00"), LOW_INCOME: to_fen("6300.00")}
    assert (s1.category, s1.amount_fen) == (DIBAO, to_fen("8000.00"))
    assert result.due_fen == to_fen("8000.00")
    assert difference(result.due_fen, to_fen("8000.00")) == 0  # granted = maf_pay 8,000.00


def test_row_2_second_band_over_the_years_base() -> None:
    result = year_2026([S1, S2])
    s2 = result.items[1]
    # [10,000, 25,000): 10,000 × 80 % + 5,000 × 90 %; low_income: 15,000 × 70 % above its 1,000
    assert dict(s2.options) == {DIBAO: to_fen("12500.00"), LOW_INCOME: to_fen("10500.00")}
    assert (s2.category, s2.amount_fen) == (DIBAO, to_fen("12500.00"))
    assert result.due_fen == to_fen("20500.00")
    assert difference(result.due_fen, to_fen("20000.00")) == to_fen("500.00")


def test_row_4_a_deduction_lowers_its_items_base_and_moves_the_bands() -> None:
    result = year_2026([S1, S2], [CRITICAL_ON_S1])
    s1, s2 = result.items
    assert (s1.deducted_fen, s1.base_fen, s1.amount_fen) == (
        to_fen("2000.00"),
        to_fen("8000.00"),
        to_fen("6400.00"),
    )
    assert s2.amount_fen == to_fen("12300.00")  # 12,000 × 80 % + 3,000 × 90 %
    assert result.due_fen == to_fen("18700.00")
    assert difference(result.due_fen, to_fen("20500.00")) == -to_fen("1800.00")


def test_row_6_the_applications_marginal_amount() -> None:
    amounts = marginal([S1, S2], [A1], holdings=P1, policies=POLICIES, deductions=[CRITICAL_ON_S1])
    assert amounts == {2026: to_fen("600.00")}  # dibao outpatient 60 %


def test_row_7_burden_relief_spread_by_largest_remainder() -> None:
    result = year_2026([A1, S2, S1], [CRITICAL_ON_S1, RELIEF_2026])
    s1, s2, a1 = result.items
    assert [item.key for item in result.items] == [S1.key, S2.key, A1.key]
    assert [item.relief_fen for item in result.items] == [
        to_fen("333.33"),
        to_fen("625.00"),
        to_fen("41.67"),
    ]
    assert [item.base_fen for item in result.items] == [
        to_fen("7666.67"),
        to_fen("14375.00"),
        to_fen("958.33"),
    ]
    assert [s1.amount_fen, s2.amount_fen, a1.amount_fen] == [
        to_fen("6133.34"),
        to_fen("11704.17"),
        to_fen("575.00"),
    ]
    assert (result.relief_fen, result.relief_spread_fen) == (to_fen("1000.00"), to_fen("1000.00"))
    assert result.due_fen == to_fen("18412.51")
    assert difference(result.due_fen, to_fen("19300.00")) == -to_fen("887.49")


def test_compute_person_routes_deductions_to_their_years() -> None:
    s3 = Item("S:H001:S3", datetime(2027, 2, 1, 9, tzinfo=SHANGHAI), INPATIENT, to_fen("100.00"))
    years = compute_person(
        [S1, S2, A1, s3],
        holdings=[*P1, Holding(DIBAO, date(2027, 1, 1))],
        policies=POLICIES,
        deductions=[CRITICAL_ON_S1, RELIEF_2026],
    )
    assert {year: result.due_fen for year, result in years.items()} == {
        2026: to_fen("18412.51"),
        2027: to_fen("80.00"),  # policy of 2026 still in force; a fresh year: B and A from 0
    }


def test_rows_5_to_9_recovery_of_the_person_receivable() -> None:
    c2 = Claim("C2", at(7, 2), Resolution.NEXT_PERIOD, to_fen("1800.00"), notice_delivered=True)
    split = split_person_payment(to_fen("600.00"), [c2])  # row 6: application A1
    assert (split.deducted_fen, split.paid_fen) == (to_fen("600.00"), 0)
    c2 = Claim("C2", c2.at, c2.resolution, to_fen("1200.00"), notice_delivered=True)
    c3 = Claim("C3", at(11, 3), Resolution.CASH, to_fen("887.49"), notice_delivered=True)
    # row 9: a cash repayment of 1,000.00 settles the cash claim first, then the older next-period
    recoveries = allocate_repayment(to_fen("1000.00"), [c2, c3])
    assert [(r.claim_key, r.amount_fen) for r in recoveries] == [
        ("C3", to_fen("887.49")),
        ("C2", to_fen("112.51")),
    ]
    assert c2.open_fen + c3.open_fen - to_fen("1000.00") == to_fen("1087.49")


def test_prepayment_of_2027_worked_by_hand() -> None:
    result = prepayment(
        2027, actual_fen=to_fen("18412.51"), carried_fen=to_fen("1500.00"), rate_bp=2500
    )
    # 25 % × 18,412.51 = 4,603.1275 -> 4,603.13 (rounded once, half up)
    assert result.due_fen == to_fen("4603.13")
    assert result.transfer_fen == to_fen("3103.13")


def test_prepayment_day_is_the_first_working_day_on_or_after_the_10th() -> None:
    assert date(2027, 1, 10).isoweekday() == 7  # a Sunday
    assert prepayment_date(2027, (1, 10), WorkCalendar().is_working) == date(2027, 1, 11)
    assert prepayment_date(2027, (1, 10), lambda day: day.weekday() < 5) == date(2027, 1, 11)
    # a working day itself is kept
    assert prepayment_date(2026, (1, 12), lambda day: day.weekday() < 5) == date(2026, 1, 12)
