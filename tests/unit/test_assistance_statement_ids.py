"""The assistance statement's instruction id (docs/rules.md "Assistance statements"): J, the
period, the 610 fund part, the institution; within the bank's 30 characters with any resend;
the simulator reads it as kind `assistance` (bank rules of scenarios may name that kind)."""

from __future__ import annotations

from app.assistance.statements import instruction_id
from app.bank import rules as bank_rules
from app.bank.simulator import BankSimulator


def test_the_id_names_the_period_the_fund_and_the_institution() -> None:
    assert instruction_id("2026-03", "640100", "H001") == "J2603-6401610-H001"
    assert instruction_id("2027-12", "640200", "H001") == "J2712-6402610-H001"


def test_the_longest_id_with_its_last_resend_fits_the_bank() -> None:
    first = instruction_id("2026-03", "640100", "ABCDEFGHIJKL")  # a code of 12 characters
    last = bank_rules.resend_id(first, bank_rules.RESENDS_MAX)
    assert len(last) <= 30
    assert bank_rules.INSTRUCTION_ID_RE.fullmatch(last)


def test_the_simulator_reads_it_as_an_assistance_payment() -> None:
    assert BankSimulator.describe("J2603-6401610-H001-R1") == {
        "kind": "assistance",
        "insutype": "610",
        "fixmedins_code": "H001",
    }
    assert BankSimulator.describe("M2603-6401310-H001")["kind"] == "monthly"
