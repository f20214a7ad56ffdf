from app.treasury import rules
from app.treasury.rules import FundsCheck


def test_available_is_the_bank_less_what_is_in_transit() -> None:
    assert rules.available(1_000_000, -300_000) == 700_000
    assert rules.available(0, 0) == 0


def test_covered_submission_is_not_short() -> None:
    check = FundsCheck("warn", available_fen=500_000, due_fen=500_000, payments=2)
    assert check.shortfall_fen == 0 and not check.short and not check.hold


def test_shortfall_is_what_the_account_lacks() -> None:
    check = FundsCheck("warn", available_fen=300_000, due_fen=500_001, payments=2)
    assert check.shortfall_fen == 200_001 and check.short and not check.hold


def test_a_balance_already_below_zero_is_needed_too() -> None:
    check = FundsCheck("block", available_fen=-100_000, due_fen=50_000, payments=1)
    assert check.shortfall_fen == 150_000 and check.hold


def test_nothing_due_is_never_short() -> None:
    assert not FundsCheck("block", available_fen=-5, due_fen=0, payments=0).short
