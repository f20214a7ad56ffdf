"""`rules.chain_hashes` (one pass over a batch, issue 20.3) is `chain_hash` applied in turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.ledger.rules import GENESIS_HASH, chain_hash, chain_hashes

NOW = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def test_chain_hashes_equal_chain_hash_in_turn() -> None:
    entries = [
        ("daily:a", "1" * 64, NOW),
        ("daily:b", "2" * 64, NOW),  # a shared time
        ("daily:c", "3" * 64, NOW.astimezone(SHANGHAI)),  # the same instant elsewhere
        ("daily:d", "4" * 64, NOW + timedelta(microseconds=1)),
    ]
    recorded = (NOW + timedelta(hours=1)).astimezone(SHANGHAI)
    expected, prev = [], "f" * 64
    for key, digest, effective in entries:
        prev = chain_hash(prev, key, digest, effective, recorded)
        expected.append(prev)
    assert chain_hashes("f" * 64, entries, recorded) == expected
    assert len(set(expected)) == 4


def test_chain_hashes_of_nothing_and_the_chain_start() -> None:
    assert chain_hashes(GENESIS_HASH, [], NOW) == []
    first = chain_hashes(GENESIS_HASH, [("k", "0" * 64, NOW)], NOW)
    assert first == [chain_hash(GENESIS_HASH, "k", "0" * 64, NOW, NOW)]
