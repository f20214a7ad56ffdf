"""The project's own scenarios (tests/scenarios/own, see its README) equal their expected
results in every field, on this run's database; a scenario gives byte-identical results twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.scenarios import expected_of, mismatches, play

OWN = Path(__file__).resolve().parent / "own"
SCENARIOS = sorted(p for p in OWN.glob("*.json") if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_own_scenario(path: Path) -> None:
    problems = mismatches(play(path), expected_of(path))
    assert not problems, "\n".join(problems)


def test_same_scenario_twice_is_byte_identical() -> None:
    path = OWN / "late-upload-and-revocations.json"
    first = json.dumps(play(path), ensure_ascii=False, sort_keys=True).encode()
    second = json.dumps(play(path), ensure_ascii=False, sort_keys=True).encode()
    assert first == second
    # and equal, byte for byte, to the expected file produced on the other database
    assert first == json.dumps(expected_of(path), ensure_ascii=False, sort_keys=True).encode()
