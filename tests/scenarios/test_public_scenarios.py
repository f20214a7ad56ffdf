"""Every public scenario (the project's copy, and ../shared/scenarios where it exists) played
through the runner on this run's database equals its expected result in every field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.scenarios import expected_of, mismatches, play

ROOT = Path(__file__).resolve().parents[2]
COPY = sorted((ROOT / "tests" / "scenarios" / "public").glob("*.json"))
SHARED = sorted((ROOT.parent / "shared" / "scenarios").glob("*.json"))


def _scenarios(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.name.endswith(".expected.json")]


@pytest.mark.parametrize("path", _scenarios(COPY), ids=lambda p: p.stem)
def test_public_scenario(path: Path) -> None:
    problems = mismatches(play(path), expected_of(path))
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not SHARED, reason="no ../shared/scenarios beside this checkout")
@pytest.mark.parametrize("path", _scenarios(SHARED), ids=lambda p: f"shared-{p.stem}")
def test_shared_scenario(path: Path) -> None:
    copy = ROOT / "tests" / "scenarios" / "public" / path.name
    if copy.exists() and copy.read_bytes() == path.read_bytes():
        pytest.skip("identical to the project's copy, played above")
    problems = mismatches(play(path), expected_of(path))
    assert not problems, "\n".join(problems)
