"""Pure bank rules: instruction ids and the instruction state machine."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from app.states import IllegalTransition, Machine

__all__ = ["IllegalTransition"]  # raised by INSTRUCTION.check

INSTRUCTION_ID_RE = re.compile(r"[A-Z0-9-]{1,30}")
RESENDS_MAX = 9
PERSON_KIND = "person"  # the instruction kind of a payment to a person (payee type person)


class InstructionStatus(StrEnum):
    QUEUED = "QUEUED"
    ACCEPTED = "ACCEPTED"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    # The bank does not know it (status query 404): nothing moved, send the same id again.
    UNKNOWN = "UNKNOWN"


S = InstructionStatus
# Legal transitions of a payment instruction (one place; anything else raises).
INSTRUCTION = Machine(
    "an instruction",
    {
        S.QUEUED: {S.ACCEPTED, S.UNKNOWN, S.SUCCESS, S.FAILED},
        S.ACCEPTED: {S.SUCCESS, S.FAILED, S.UNKNOWN},
        S.UNKNOWN: {S.ACCEPTED, S.SUCCESS, S.FAILED, S.QUEUED},
        S.SUCCESS: {S.RETURNED},
        S.FAILED: set(),
        S.RETURNED: set(),
    },
)
# The bank told a result (a success may still be returned later).
FINAL = frozenset({S.SUCCESS, S.FAILED, S.RETURNED})
AWAITING_RESULT = frozenset({S.QUEUED, S.ACCEPTED, S.UNKNOWN})
# What a callback may report.
CALLBACK_STATUSES = (S.SUCCESS, S.FAILED, S.RETURNED)


def _fund_part(region_code: str, insutype: str) -> str:
    return f"{region_code[:4]}{insutype}"


def daily_instruction_id(business_date: date, region_code: str, insutype: str, code: str) -> str:
    """D260306-6401310-H001 (API.md): business date, fund ledger, institution."""
    return _checked(f"D{business_date:%y%m%d}-{_fund_part(region_code, insutype)}-{code}")


def monthly_instruction_id(period: str, region_code: str, insutype: str, code: str) -> str:
    return _checked(f"M{period[2:4]}{period[5:7]}-{_fund_part(region_code, insutype)}-{code}")


def annual_instruction_id(year: int, region_code: str, insutype: str, code: str) -> str:
    return _checked(f"A{year:04d}-{_fund_part(region_code, insutype)}-{code}")


def person_instruction_id(first_sent: date, region_code: str, payment_id: int) -> str:
    """P260817-6401610-42: a payment to a person (SPEC-ASSISTANCE A6, API.md "ids starting
    P"): the day it was first sent, the region's 610 fund ledger, the person payment's id
    (unique; a person may be paid several times a day). A resend adds -R<n>."""
    assert payment_id > 0
    return _checked(f"P{first_sent:%y%m%d}-{_fund_part(region_code, '610')}-{payment_id}")


def resend_id(first_id: str, resend_number: int) -> str:
    """A resend gets a new id linked to the first: <first>-R<n>."""
    assert 1 <= resend_number <= RESENDS_MAX, f"at most {RESENDS_MAX} resends"
    return _checked(f"{first_id}-R{resend_number}")


def _checked(instruction_id: str) -> str:
    assert INSTRUCTION_ID_RE.fullmatch(instruction_id), f"bad instruction id {instruction_id!r}"
    return instruction_id
