"""The arguments of PostgreSQL's one-call post, without a database (issue 20.1)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.ledger import fastpost, rules
from app.ledger.rules import Draft, Line

NOW = datetime(2026, 3, 6, 2, 0, 0, 123456, tzinfo=UTC)


def _draft(**changes: object) -> Draft:
    fields: dict[str, object] = {
        "kind": "test",
        "key": "k1",
        "region_code": "640100",
        "insutype": "310",
        "lines": (
            Line("expense:640100:310:H1", "D", 30),
            Line("payable:640100:310:H1", "C", 20),
            Line("appropriation:640100:310", "C", 10),
        ),
        "effective_at": datetime(2026, 3, 6, 10, 0, tzinfo=timezone(timedelta(hours=8))),
        "business_ref": "ref",
        "fixmedins_code": "H1",
        "memo": "m" * 400,
    }
    fields.update(changes)
    return Draft(**fields)  # type: ignore[arg-type]


def test_the_database_hashes_prev_and_tail_as_chain_hash_does() -> None:
    draft = _draft()
    parameters = fastpost.call_parameters(draft, NOW)
    prev = "ab" * 32
    in_database = hashlib.sha256(f"{prev}\x1f{parameters['tail']}".encode()).hexdigest()
    assert in_database == rules.chain_hash(
        prev, draft.key, rules.request_hash(draft, None), draft.effective_at, NOW
    )
    assert parameters["digest"] == rules.request_hash(draft, None)


def test_the_accounts_fields_and_lines_in_order() -> None:
    parameters = fastpost.call_parameters(_draft(), NOW)
    assert parameters["codes"] == [
        "expense:640100:310:H1",
        "payable:640100:310:H1",
        "appropriation:640100:310",
    ]
    assert parameters["names"] == ["expense", "payable", "appropriation"]
    assert parameters["institutions"] == ["H1", "H1", None]
    assert parameters["normal_sides"] == ["D", "C", "C"]
    assert parameters["sides"] == ["D", "C", "C"]
    assert parameters["amounts"] == [30, 20, 10]
    assert parameters["fund"] == "640100:310"
    assert parameters["memo"] == "m" * 300


def test_an_account_of_another_fund_or_a_reversal_is_not_sent() -> None:
    lines = (Line("bank:640100:390", "D", 5), Line("appropriation:640100:310", "C", 5))
    with pytest.raises(rules.LedgerRuleError, match="fund ledger"):
        fastpost.call_parameters(_draft(lines=lines), NOW)
    with pytest.raises(AssertionError):
        fastpost.call_parameters(_draft(reverses_entry_id=3), NOW)
