"""Bank rules: instruction ids (API.md bank protocol) and the instruction state machine
(SPEC §3.7, §4; docs/rules.md "Bank")."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.bank.rules import (
    AWAITING_RESULT,
    FINAL,
    INSTRUCTION,
    RESENDS_MAX,
    IllegalTransition,
    InstructionStatus,
    annual_instruction_id,
    daily_instruction_id,
    monthly_instruction_id,
    resend_id,
)

# API.md: `Idempotency-Key: <instruction_id>` (≤ 30 characters of `A-Z 0-9 -`)
API_ID = re.compile(r"[A-Z0-9-]{1,30}")
STATUSES = ("QUEUED", "ACCEPTED", "UNKNOWN", "SUCCESS", "FAILED", "RETURNED")
WAITING = ("QUEUED", "ACCEPTED", "UNKNOWN")
TRANSITIONS = INSTRUCTION.moves
check_transition = INSTRUCTION.check


# --- instruction ids ----------------------------------------------------------------------


def test_daily_id_is_the_api_example() -> None:
    # API.md: D260306-6401310-H001 = business date, fund ledger (640100 × 310), institution
    assert daily_instruction_id(date(2026, 3, 6), "640100", "310", "H001") == (
        "D260306-6401310-H001"
    )
    assert daily_instruction_id(date(2026, 3, 6), "640100", "390", "H001") == (
        "D260306-6401390-H001"
    )


def test_ids_of_the_three_kinds_never_collide() -> None:
    ids = {
        daily_instruction_id(date(2026, 3, 6), "640100", "310", "H001"),
        monthly_instruction_id("2026-03", "640100", "310", "H001"),
        annual_instruction_id(2026, "640100", "310", "H001"),
    }
    assert len(ids) == 3
    assert {instruction_id[0] for instruction_id in ids} == {"D", "M", "A"}


def test_ids_name_their_period_year_fund_and_institution() -> None:
    march = monthly_instruction_id("2026-03", "640100", "310", "H001")
    assert march != monthly_instruction_id("2026-04", "640100", "310", "H001")
    assert march != monthly_instruction_id("2027-03", "640100", "310", "H001")
    assert march != monthly_instruction_id("2026-03", "640100", "390", "H001")
    assert march != monthly_instruction_id("2026-03", "640100", "310", "H002")
    assert "2603" in march and march.endswith("-H001")
    year = annual_instruction_id(2026, "640100", "310", "H001")
    assert "2026" in year and year != annual_instruction_id(2027, "640100", "310", "H001")


def test_a_resend_gets_a_new_id_linked_to_the_first() -> None:
    # SPEC §4: a failed monthly payment is resent with a new id linked to the first
    first = monthly_instruction_id("2026-03", "640100", "310", "H001")
    second = resend_id(first, 1)
    assert second != first and second.startswith(first)
    assert resend_id(first, 2) not in (first, second)
    assert len({resend_id(first, n) for n in range(1, RESENDS_MAX + 1)}) == RESENDS_MAX


@pytest.mark.parametrize("number", [0, -1, RESENDS_MAX + 1])
def test_resend_numbers_out_of_range_are_refused(number: int) -> None:
    with pytest.raises(AssertionError):
        resend_id("M2603-6401310-H001", number)


def test_an_id_beyond_thirty_characters_is_refused() -> None:
    with pytest.raises(AssertionError):
        daily_instruction_id(date(2026, 3, 6), "640100", "310", "H" * 30)
    with pytest.raises(AssertionError):
        monthly_instruction_id("2026-03", "640100", "310", "h001")  # lower case


INSTITUTION_CODES = st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)  # InstitutionCode
REGIONS = st.from_regex(r"[0-9]{6}", fullmatch=True)
INSUTYPES = st.sampled_from(["310", "390"])


@settings(max_examples=50)
@given(
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    REGIONS,
    INSUTYPES,
    INSTITUTION_CODES,
    st.integers(1, RESENDS_MAX),
)
def test_every_valid_institution_gets_ids_the_bank_accepts(
    day: date, region: str, insutype: str, code: str, resend: int
) -> None:
    period = f"{day.year:04d}-{day.month:02d}"
    daily = daily_instruction_id(day, region, insutype, code)
    monthly = monthly_instruction_id(period, region, insutype, code)
    annual = annual_instruction_id(day.year, region, insutype, code)
    # daily payments are never resent (SPEC §3.7); statements and clearings are
    for instruction_id in (daily, monthly, annual, resend_id(monthly, resend)):
        assert API_ID.fullmatch(instruction_id), instruction_id
    assert API_ID.fullmatch(resend_id(annual, resend))
    assert len({daily, monthly, annual}) == 3


SMALL_LINES = st.tuples(
    st.sampled_from(["640100", "640200", "640300"]),  # pooling regions of Ningxia
    INSUTYPES,
    st.sampled_from(["H001", "H002", "H0011"]),
    st.dates(date(2026, 3, 5), date(2026, 3, 7)),
)


@settings(max_examples=100)
@given(SMALL_LINES, SMALL_LINES)
def test_different_daily_payments_get_different_ids(
    one: tuple[str, str, str, date], other: tuple[str, str, str, date]
) -> None:
    """The id is the bank's idempotency key: two lines must never share one. Lines differ
    by business date, fund ledger (region × insutype) and institution."""
    region, insutype, code, day = one
    region2, insutype2, code2, day2 = other
    same_line = (region, insutype, code, day) == (region2, insutype2, code2, day2)
    same_id = daily_instruction_id(day, region, insutype, code) == daily_instruction_id(
        day2, region2, insutype2, code2
    )
    assert same_id == same_line


# --- the state machine --------------------------------------------------------------------


def test_the_table_covers_every_status_and_only_those() -> None:
    assert set(InstructionStatus) == set(STATUSES)
    assert set(TRANSITIONS) == set(STATUSES)
    assert all(targets <= set(STATUSES) for targets in TRANSITIONS.values())
    assert set(FINAL) == {"SUCCESS", "FAILED", "RETURNED"}
    assert set(AWAITING_RESULT) == set(WAITING)
    assert not FINAL & AWAITING_RESULT


def test_the_table_is_the_documented_one() -> None:
    """docs/rules.md "Bank": exactly these moves (the table before it became a Machine)."""
    assert {state: set(to) for state, to in TRANSITIONS.items()} == {
        "QUEUED": {"ACCEPTED", "UNKNOWN", "SUCCESS", "FAILED"},
        "ACCEPTED": {"SUCCESS", "FAILED", "UNKNOWN"},
        "UNKNOWN": {"ACCEPTED", "SUCCESS", "FAILED", "QUEUED"},
        "SUCCESS": {"RETURNED"},
        "FAILED": set(),
        "RETURNED": set(),
    }
    assert INSTRUCTION.final() == {"FAILED", "RETURNED"}


@pytest.mark.parametrize("waiting", WAITING)
@pytest.mark.parametrize("result", ["SUCCESS", "FAILED"])
def test_a_waiting_instruction_takes_either_result(waiting: str, result: str) -> None:
    check_transition(waiting, result)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("QUEUED", "ACCEPTED"),  # 202
        ("QUEUED", "UNKNOWN"),  # timeout after sending, 5xx, 409, unreadable answer
        ("ACCEPTED", "UNKNOWN"),
        ("UNKNOWN", "ACCEPTED"),  # the status query finds it accepted
        ("UNKNOWN", "QUEUED"),  # the bank does not know it: same id sent again
        ("SUCCESS", "RETURNED"),  # 退票
    ],
)
def test_documented_transitions_are_legal(current: str, new: str) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("FAILED", "SUCCESS"),  # contradicts a final result (API.md: 409)
        ("SUCCESS", "FAILED"),
        ("FAILED", "QUEUED"),  # a failed daily payment is never sent again (SPEC §3.7)
        ("FAILED", "ACCEPTED"),
        ("RETURNED", "SUCCESS"),
        ("RETURNED", "QUEUED"),
        ("SUCCESS", "QUEUED"),
        ("SUCCESS", "UNKNOWN"),
        ("QUEUED", "RETURNED"),  # a return needs the success it follows
        ("ACCEPTED", "RETURNED"),
        ("UNKNOWN", "RETURNED"),
        ("ACCEPTED", "QUEUED"),  # an accepted payment may have moved: never sent again
    ],
)
def test_illegal_transitions_raise(current: str, new: str) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
        check_transition(current, new)


def test_final_states_only_lead_to_a_return_after_success() -> None:
    """A final result is never applied again (it would post twice) nor changed."""
    for status in FINAL:
        for new in STATUSES:
            legal = status == "SUCCESS" and new == "RETURNED"
            if legal:
                check_transition(status, new)
            else:
                with pytest.raises(IllegalTransition):
                    check_transition(status, new)


@settings(max_examples=100)
@given(st.lists(st.sampled_from(STATUSES), max_size=12))
def test_legal_paths_never_leave_a_final_result_for_a_waiting_one(path: list[str]) -> None:
    """Whatever sequence of legal steps: once final, never waiting again; RETURNED only
    right after SUCCESS; at most one SUCCESS (money moves once per id)."""
    current = "QUEUED"
    walked = [current]
    for new in path:
        try:
            check_transition(current, new)
        except IllegalTransition:
            continue
        walked.append(new)
        current = new
    first_final = next((i for i, s in enumerate(walked) if s in FINAL), len(walked))
    assert all(s in FINAL for s in walked[first_final:])
    assert walked.count("SUCCESS") <= 1
    for index, status in enumerate(walked):
        if status == "RETURNED":
            assert walked[index - 1] == "SUCCESS"
