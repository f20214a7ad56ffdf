"""More edges of the bank rules: instruction ids at their limits (API.md: `Idempotency-Key:
<instruction_id>`, ≤ 30 characters of `A-Z 0-9 -`, unique; D260306-6401310-H001 = business
date, fund ledger, institution) and the instruction state machine (SPEC §3.7, docs/rules.md
"Bank").

Complements tests/unit/test_bank_rules.py. The rules module is imported as a module so the
tests follow the functions inside it.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.bank import rules

API_ID = re.compile(r"[A-Z0-9-]{1,30}")
LONGEST_CODE = "ABCDEFGHIJ12"  # InstitutionCode: [A-Z0-9]{1,12}
STATUSES = ("QUEUED", "ACCEPTED", "UNKNOWN", "SUCCESS", "FAILED", "RETURNED")


# --- ids at date edges (API.md: the business date as YYMMDD) -------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 31), "D261231-6401310-H001"),
        (date(2027, 1, 1), "D270101-6401310-H001"),
        (date(2028, 2, 29), "D280229-6401310-H001"),  # leap day
        (date(2030, 10, 5), "D301005-6401310-H001"),  # one-digit day and month are padded
    ],
)
def test_daily_id_writes_the_business_date_as_yymmdd(day: date, expected: str) -> None:
    assert rules.daily_instruction_id(day, "640100", "310", "H001") == expected


def test_month_and_year_ends_give_distinct_monthly_and_annual_ids() -> None:
    december = rules.monthly_instruction_id("2026-12", "640100", "310", "H001")
    january = rules.monthly_instruction_id("2027-01", "640100", "310", "H001")
    assert december != january
    assert "2612" in december and "2701" in january
    assert rules.annual_instruction_id(2026, "640100", "310", "H001") != (
        rules.annual_instruction_id(2027, "640100", "310", "H001")
    )


# --- ids at their length limit (API.md: ≤ 30 characters) ----------------------------------


def test_the_longest_institution_code_fits_every_kind_and_every_resend() -> None:
    day = date(2026, 12, 31)
    daily = rules.daily_instruction_id(day, "640100", "390", LONGEST_CODE)
    monthly = rules.monthly_instruction_id("2026-12", "640100", "390", LONGEST_CODE)
    annual = rules.annual_instruction_id(2026, "640100", "390", LONGEST_CODE)
    last_resends = [rules.resend_id(first, rules.RESENDS_MAX) for first in (monthly, annual)]
    for instruction_id in (daily, monthly, annual, *last_resends):
        assert API_ID.fullmatch(instruction_id), instruction_id
        assert LONGEST_CODE in instruction_id


def test_a_resend_id_of_exactly_thirty_characters_is_accepted_and_31_refused() -> None:
    first_27 = "M2603-6401310-" + "H" * 13  # 27 characters: "-R1" makes 30
    assert len(first_27) == 27
    assert len(rules.resend_id(first_27, 1)) == 30
    with pytest.raises(AssertionError):
        rules.resend_id(first_27 + "X", 1)  # 31


@pytest.mark.parametrize("code", ["H 01", "H_01", "医院01", "h001", "H001\nX"])
def test_an_id_with_characters_outside_the_bank_alphabet_is_refused(code: str) -> None:
    with pytest.raises(AssertionError):
        rules.daily_instruction_id(date(2026, 3, 6), "640100", "310", code)


@pytest.mark.parametrize("code", ["H001\n", "ABCDEFGHIJ1234\n"])  # 21 and 31 characters
def test_a_trailing_newline_is_outside_the_bank_alphabet(code: str) -> None:
    with pytest.raises(AssertionError):
        rules.daily_instruction_id(date(2026, 3, 6), "640100", "310", code)


# --- uniqueness: the id is the bank's idempotency key (API.md "unique") --------------------

PREFECTURES = st.from_regex(r"[1-6][0-9]{3}", fullmatch=True).map(lambda four: four + "00")
CODES = st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)
INSUTYPES = st.sampled_from(["310", "390"])
DAYS = st.dates(date(2000, 1, 1), date(2099, 12, 31))


@st.composite
def payments(draw: st.DrawFn) -> tuple[object, ...]:
    """One payment document and its resend number (0 = the first instruction). Daily payments
    are never resent (SPEC §3.7); statements and clearings are (SPEC §4)."""
    kind = draw(st.sampled_from(["D", "M", "A"]))
    day = draw(DAYS)
    when: object = day if kind == "D" else (day.strftime("%Y-%m") if kind == "M" else day.year)
    resend = 0 if kind == "D" else draw(st.integers(0, rules.RESENDS_MAX))
    return (kind, when, draw(PREFECTURES), draw(INSUTYPES), draw(CODES), resend)


def _id(payment: tuple[object, ...]) -> str:
    kind, when, region, insutype, code, resend = payment
    assert isinstance(region, str) and isinstance(insutype, str) and isinstance(code, str)
    if kind == "D":
        assert isinstance(when, date)
        first = rules.daily_instruction_id(when, region, insutype, code)
    elif kind == "M":
        assert isinstance(when, str)
        first = rules.monthly_instruction_id(when, region, insutype, code)
    else:
        assert isinstance(when, int)
        first = rules.annual_instruction_id(when, region, insutype, code)
    assert isinstance(resend, int)
    return first if resend == 0 else rules.resend_id(first, resend)


@settings(max_examples=300)
@given(payments(), payments())
def test_two_instructions_share_an_id_only_when_they_are_the_same(
    one: tuple[object, ...], other: tuple[object, ...]
) -> None:
    """Across kinds, dates of this century, fund ledgers, institutions and resends."""
    assert (_id(one) == _id(other)) == (one == other)


@settings(max_examples=100)
@given(payments())
def test_every_id_fits_the_bank_alphabet(payment: tuple[object, ...]) -> None:
    assert API_ID.fullmatch(_id(payment))


# --- the state machine --------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_no_status_goes_to_itself(status: str) -> None:
    # a repeated result or a repeated 202 changes nothing (API.md: a replay returns the
    # original answer); the one transition function is not the place to apply it twice
    with pytest.raises(rules.IllegalTransition):
        rules.INSTRUCTION.check(status, status)


@pytest.mark.parametrize("current", STATUSES)
def test_an_unknown_target_status_is_refused(current: str) -> None:
    # not an InstructionStatus: ValueError (IllegalTransition is one too)
    with pytest.raises(ValueError, match="PAID"):
        rules.INSTRUCTION.check(current, "PAID")


def test_an_unknown_current_status_raises() -> None:
    with pytest.raises(ValueError, match="PAID"):
        rules.INSTRUCTION.check("PAID", "SUCCESS")


@pytest.mark.parametrize("waiting", sorted(rules.AWAITING_RESULT))
def test_every_waiting_status_can_still_reach_a_result(waiting: str) -> None:
    # SPEC §3.7: a payment without a result is asked about until it has one
    assert rules.INSTRUCTION.moves[waiting] & {"SUCCESS", "FAILED"} == {"SUCCESS", "FAILED"}


def test_only_success_may_be_returned_and_nothing_leaves_failed_or_returned() -> None:
    # SPEC §3.7: a failed daily payment is never sent again; a return is after a success
    assert [s for s in STATUSES if "RETURNED" in rules.INSTRUCTION.moves[s]] == ["SUCCESS"]
    assert rules.INSTRUCTION.moves["FAILED"] == rules.INSTRUCTION.moves["RETURNED"] == frozenset()
