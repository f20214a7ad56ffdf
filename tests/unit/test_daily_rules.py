from datetime import date

import pytest

from app.daily.rules import Detail, approvals_required, daily_amount, line_of, pay_date, ratio_on
from app.institutions.rules import Policy
from app.workdays.rules import WorkCalendar

CAL = WorkCalendar()


def _policy(start: date, ratio_bp: int) -> Policy:
    from datetime import time

    return Policy(start, True, ratio_bp, 500, time(14, 30), time(15), 15, 5, None)


def test_rounding_per_settlement() -> None:
    assert daily_amount(1_000_000, 6000) == 600_000
    assert daily_amount(333_333, 6000) == 200_000  # 1,999.998 -> 2,000.00
    assert daily_amount(1, 6000) == 1  # 0.006 -> 0.01
    assert daily_amount(5, 1000) == 1  # 0.5 fen -> 1 fen
    assert daily_amount(4, 1000) == 0
    with pytest.raises(AssertionError):
        daily_amount(-1, 6000)


def test_line_is_the_sum_of_its_details_not_rounded_again() -> None:
    d = date(2026, 3, 6)
    details = [
        Detail(d, 333_333, 6000),
        Detail(d, 333_333, 6000),
        Detail(date(2026, 3, 5), 1, 6000),
    ]
    line = line_of(details, d)
    assert line.amount_fen == 200_000 + 200_000 + 1  # not round(666,667 × 0.6) = 400,000
    assert line.fund_total_fen == 666_667
    assert line.settlement_count == 3
    assert line.late is True
    assert line_of(details[:2], d).late is False


@pytest.mark.parametrize(
    ("business", "pay"),
    [
        (date(2026, 3, 6), date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 7), date(2026, 3, 9)),  # Saturday -> Monday
        (date(2026, 2, 13), date(2026, 2, 14)),  # Friday -> worked Saturday 14 Feb
        (date(2026, 2, 14), date(2026, 2, 24)),  # across Spring Festival (15–23 Feb off)
        (date(2026, 2, 20), date(2026, 2, 24)),
        (date(2026, 2, 27), date(2026, 2, 28)),  # worked Saturday 28 Feb
        (date(2026, 9, 19), date(2026, 9, 20)),  # worked Sunday 20 Sep
        (date(2026, 9, 30), date(2026, 10, 8)),  # National Day 1–7 Oct off
        (date(2026, 10, 9), date(2026, 10, 10)),  # worked Saturday 10 Oct
    ],
)
def test_pay_dates(business: date, pay: date) -> None:
    assert pay_date(CAL, business) == pay


def test_ratio_change_mid_month() -> None:
    versions = [_policy(date(2026, 1, 1), 6000), _policy(date(2026, 3, 15), 7000)]
    assert ratio_on(versions, date(2026, 3, 14)) == 6000
    assert ratio_on(versions, date(2026, 3, 15)) == 7000
    with pytest.raises(AssertionError):
        ratio_on(versions, date(2025, 12, 31))


def test_second_approval_only_above_threshold() -> None:
    assert approvals_required(100, None) == 1
    assert approvals_required(100, 100) == 1
    assert approvals_required(101, 100) == 2
