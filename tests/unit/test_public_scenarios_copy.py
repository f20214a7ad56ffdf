"""The project keeps an identical copy of ../shared/scenarios (a fresh clone has no ../shared)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "scenarios"
COPY = ROOT / "tests" / "scenarios" / "public"


def test_copy_is_not_empty() -> None:
    assert any(COPY.glob("*.json"))


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/scenarios beside this checkout")
def test_copy_equals_shared() -> None:
    shared = {path.name: path.read_bytes() for path in SHARED.glob("*.json")}
    copy = {path.name: path.read_bytes() for path in COPY.glob("*.json")}
    assert copy == shared, "run: cp ../shared/scenarios/*.json tests/scenarios/public/"
