from datetime import UTC, datetime

import pytest

from app.ledger.rules import (
    Draft,
    DraftLines,
    LedgerRuleError,
    Line,
    account_code,
    check_fund,
    mirror,
    normal_balance,
    parse_account_code,
    request_hash,
)

NOW = datetime(2026, 3, 6, tzinfo=UTC)


def test_account_codes_follow_spec_names() -> None:
    assert account_code("payable", "640100", "310", "H001") == "payable:640100:310:H001"
    assert account_code("bank", "640100", "310") == "bank:640100:310"
    with pytest.raises(LedgerRuleError):
        account_code("bank", "640100", "310", "H001")  # not per institution
    with pytest.raises(LedgerRuleError):
        account_code("payable", "640100", "310")  # per institution
    with pytest.raises(LedgerRuleError):
        account_code("cash", "640100", "310")
    assert parse_account_code("expense:640100:390:H9") == ("expense", "640100", "390", "H9")


def test_normal_balances() -> None:
    assert normal_balance("bank", 100) == 100
    assert normal_balance("payable", -100) == 100
    assert normal_balance("appropriation", -5) == 5


def test_negative_amount_swaps_sides_and_zero_posts_nothing() -> None:
    lines = (
        DraftLines().transfer("a", "b", 100).transfer("c", "d", -30).transfer("e", "f", 0).result()
    )
    assert lines == (
        Line("a", "D", 100),
        Line("b", "C", 100),
        Line("d", "D", 30),
        Line("c", "C", 30),
    )


def test_split_and_mirror() -> None:
    lines = DraftLines().split("deposit", [("payable", 90), ("expense", 60), ("x", 0)]).result()
    assert lines == (Line("deposit", "D", 150), Line("payable", "C", 90), Line("expense", "C", 60))
    assert mirror(lines)[0] == Line("deposit", "C", 150)


def test_drafts_must_balance() -> None:
    with pytest.raises(LedgerRuleError, match="unbalanced"):
        Draft("k", "key", "640100", "310", (Line("a", "D", 2), Line("b", "C", 1)), NOW, "ref")
    with pytest.raises(LedgerRuleError, match="two postings"):
        Draft("k", "key", "640100", "310", (), NOW, "ref")
    with pytest.raises(AssertionError):
        Line("a", "D", 0)
    with pytest.raises(AssertionError):
        Line("a", "X", 1)


def test_request_hash_ignores_time_and_memo_but_not_money() -> None:
    lines = (Line("a", "D", 1), Line("b", "C", 1))
    first = Draft("k", "key", "640100", "310", lines, NOW, "ref", memo="x")
    later = Draft("k", "key", "640100", "310", lines, datetime(2027, 1, 1, tzinfo=UTC), "ref")
    other = Draft("k", "key", "640100", "310", (Line("a", "D", 2), Line("b", "C", 2)), NOW, "ref")
    assert request_hash(first, None) == request_hash(later, None)
    assert request_hash(first, None) != request_hash(other, None)


def test_check_fund_refuses_an_account_of_another_fund_ledger() -> None:
    inside = [
        Line("bank:640100:310", "D", 5),
        Line("payable:640100:310:H001", "C", 5),
    ]
    check_fund(inside, "640100", "310")
    for stranger in ("bank:640100:390", "payable:640200:310:H001", "bank:6401:310"):
        with pytest.raises(LedgerRuleError, match="not of the entry's fund ledger"):
            check_fund([inside[0], Line(stranger, "C", 5)], "640100", "310")
