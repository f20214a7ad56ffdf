"""The public assistance scenarios (SCENARIOS.md "Assistance"; the project's copy in
tests/scenarios/assistance, and ../shared/scenarios-assistance where it exists) played through
the runner on this run's database equal their expected results in every field: the hospitals'
side (issue 21: assistance statements, the prepayment), the persons' side (issue 22: person-
years, clearings, payments, receivables), the trial balance with the `610` accounts and the
refused events."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.scenarios import expected_of, mismatches, play

ROOT = Path(__file__).resolve().parents[2]
COPY = sorted((ROOT / "tests" / "scenarios" / "assistance").glob("*.json"))
SHARED = sorted((ROOT.parent / "shared" / "scenarios-assistance").glob("*.json"))

COMPARED = (
    "assistance_statements",
    "prepayments",
    "assistance_persons",
    "person_receivables",
    "assistance_clearings",
    "person_payments",
    "trial_balance",
    "rejected_events",
)


def _scenarios(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.name.endswith(".expected.json")]


def _check(path: Path) -> None:
    expected = expected_of(path)
    assert set(expected) <= set(COMPARED), "a key this test does not know"
    result = play(path)
    problems = mismatches(result, {key: expected[key] for key in COMPARED if key in expected})
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", _scenarios(COPY), ids=lambda p: p.stem)
def test_assistance_scenario(path: Path) -> None:
    _check(path)


@pytest.mark.skipif(not SHARED, reason="no ../shared/scenarios-assistance beside this checkout")
@pytest.mark.parametrize("path", _scenarios(SHARED), ids=lambda p: f"shared-{p.stem}")
def test_shared_assistance_scenario(path: Path) -> None:
    copy = ROOT / "tests" / "scenarios" / "assistance" / path.name
    if copy.exists() and copy.read_bytes() == path.read_bytes():
        pytest.skip("identical to the project's copy, played above")
    _check(path)
