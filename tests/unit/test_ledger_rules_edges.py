"""Edges of the ledger rules (SPEC §6) not pinned by test_ledger_rules.py: the account table,
entry limits, keys, reversals and hashes, and the balance laws of draft building."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ledger.rules import (
    ACCOUNT_TYPES,
    POSTINGS_PER_ENTRY_MAX,
    Draft,
    DraftLines,
    LedgerRuleError,
    Line,
    account_code,
    chain_hash,
    check_balanced,
    mirror,
    normal_balance,
    parse_account_code,
    request_hash,
)

NOW = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
PAIR = (Line("a", "D", 1), Line("b", "C", 1))


def test_account_table_is_spec_section_6() -> None:
    assert ACCOUNT_TYPES == {
        "bank": ("D", False),
        "in_transit": ("D", False),
        "receivable": ("D", True),
        "procurement_advance": ("D", True),
        "payable": ("C", True),
        "deposit_held": ("C", True),
        "appropriation": ("C", False),
        "expense": ("D", True),
    }


@pytest.mark.parametrize("name", sorted(ACCOUNT_TYPES))
def test_account_codes_round_trip(name: str) -> None:
    institution = "H001" if ACCOUNT_TYPES[name][1] else None
    code = account_code(name, "640100", "390", institution)
    assert parse_account_code(code) == (name, "640100", "390", institution)
    debit_normal = ACCOUNT_TYPES[name][0] == "D"
    assert normal_balance(name, 100) == (100 if debit_normal else -100)
    assert normal_balance(name, 0) == 0


@pytest.mark.parametrize(
    "code",
    [
        "bank:640100",  # too short
        "payable:640100:310",  # per institution, none given
        "bank:640100:310:H001",  # not per institution, one given
        "cash:640100:310",  # no such account
        "payable:640100:310:H001:X",  # too long
        "",
    ],
)
def test_malformed_account_codes_are_refused(code: str) -> None:
    with pytest.raises(LedgerRuleError):
        parse_account_code(code)


def test_entry_size_limits() -> None:
    many = [Line("a", "D", 1), Line("b", "C", 1)] * (POSTINGS_PER_ENTRY_MAX // 2)
    check_balanced(many)  # exactly the maximum
    with pytest.raises(LedgerRuleError, match="at most"):
        check_balanced([*many, Line("c", "D", 1)])
    with pytest.raises(LedgerRuleError, match="two postings"):
        check_balanced([Line("a", "D", 1)])


def test_draft_keys_and_times() -> None:
    Draft("k", "x" * 160, "640100", "310", PAIR, NOW, "ref")
    with pytest.raises(AssertionError):
        Draft("k", "x" * 161, "640100", "310", PAIR, NOW, "ref")
    with pytest.raises(AssertionError):
        Draft("k", "", "640100", "310", PAIR, NOW, "ref")
    with pytest.raises(AssertionError):
        Draft("k", "key", "640100", "310", PAIR, NOW.replace(tzinfo=None), "ref")


def test_negative_postings_are_refused() -> None:
    with pytest.raises(AssertionError):
        Line("a", "D", -1)


def test_a_split_with_only_zero_credits_posts_nothing() -> None:
    assert DraftLines().split("deposit", [("payable", 0), ("expense", 0)]).result() == ()
    with pytest.raises(AssertionError):
        DraftLines().split("deposit", [("payable", 10), ("expense", -1)])


def test_request_hash_sees_every_reference() -> None:
    base = Draft("k", "key", "640100", "310", PAIR, NOW, "ref", "H001", "2026-03")
    digest = request_hash(base, None)
    others = [
        Draft("k2", "key", "640100", "310", PAIR, NOW, "ref", "H001", "2026-03"),
        Draft("k", "key", "640200", "310", PAIR, NOW, "ref", "H001", "2026-03"),
        Draft("k", "key", "640100", "390", PAIR, NOW, "ref", "H001", "2026-03"),
        Draft("k", "key", "640100", "310", PAIR, NOW, "ref2", "H001", "2026-03"),
        Draft("k", "key", "640100", "310", PAIR, NOW, "ref", "H002", "2026-03"),
        Draft("k", "key", "640100", "310", PAIR, NOW, "ref", "H001", "2026-04"),
        Draft("k", "key", "640100", "310", PAIR, NOW, "ref", None, "2026-03"),
        Draft("k", "key", "640100", "310", mirror(PAIR), NOW, "ref", "H001", "2026-03"),
    ]
    assert all(request_hash(other, None) != digest for other in others)
    assert request_hash(base, "first-key") != digest  # a reversal is other content
    # the key and the effective time are not content: a replay compares the rest
    replay = Draft(
        "k", "k2", "640100", "310", PAIR, NOW + timedelta(days=1), "ref", "H001", "2026-03"
    )
    assert request_hash(replay, None) == digest


def test_chain_hash_compares_instants_and_sees_every_field() -> None:
    recorded = NOW + timedelta(seconds=1)
    digest = chain_hash("0" * 64, "key", "abc", NOW, recorded)
    shanghai = timezone(timedelta(hours=8))
    assert chain_hash("0" * 64, "key", "abc", NOW.astimezone(shanghai), recorded) == digest
    assert chain_hash("1" * 64, "key", "abc", NOW, recorded) != digest
    assert chain_hash("0" * 64, "key2", "abc", NOW, recorded) != digest
    assert chain_hash("0" * 64, "key", "abd", NOW, recorded) != digest
    assert chain_hash("0" * 64, "key", "abc", recorded, recorded) != digest
    assert chain_hash("0" * 64, "key", "abc", NOW, NOW) != digest


ACCOUNTS = st.sampled_from(["bank", "in_transit", "payable", "expense", "receivable"])
TRANSFERS = st.lists(
    st.tuples(ACCOUNTS, ACCOUNTS, st.integers(-(10**13), 10**13)), min_size=1, max_size=20
)


def _nonzero(amounts: Counter[str]) -> dict[str, int]:
    return {account: amount for account, amount in amounts.items() if amount}


def _net(lines: tuple[Line, ...]) -> dict[str, int]:
    """Debit minus credit per account."""
    net: Counter[str] = Counter()
    for line in lines:
        net[line.account] += line.amount_fen if line.side == "D" else -line.amount_fen
    return _nonzero(net)


@settings(max_examples=100)
@given(TRANSFERS)
def test_transfers_always_balance_and_move_what_they_say(
    transfers: list[tuple[str, str, int]],
) -> None:
    """SPEC §6: a negative amount swaps the sides, zero posts nothing; every entry balances."""
    drafted = DraftLines()
    expected: Counter[str] = Counter()
    for debit, credit, amount in transfers:
        drafted.transfer(debit, credit, amount)
        expected[debit] += amount
        expected[credit] -= amount
    lines = drafted.result()
    assert all(line.amount_fen > 0 for line in lines)
    assert len(lines) == 2 * sum(1 for _, _, amount in transfers if amount)
    assert _net(lines) == _nonzero(expected)
    if lines:
        check_balanced(lines[:POSTINGS_PER_ENTRY_MAX])
        reversal = mirror(lines)
        assert mirror(reversal) == lines
        assert _net(reversal) == {account: -amount for account, amount in _net(lines).items()}


@settings(max_examples=100)
@given(st.lists(st.tuples(ACCOUNTS, st.integers(0, 10**13)), min_size=1, max_size=10))
def test_split_debits_the_sum_of_its_credits(credits: list[tuple[str, int]]) -> None:
    lines = DraftLines().split("deposit_held", credits).result()
    total = sum(amount for _, amount in credits)
    if total == 0:
        assert lines == ()
        return
    assert lines[0] == Line("deposit_held", "D", total)
    assert sum(line.amount_fen for line in lines[1:]) == total
    assert all(line.side == "C" for line in lines[1:])
    check_balanced(lines)
