"""Failpoints (app/failpoints.py): off by default, `kill` and `error` when set, unknown names
refused, never in production (the settings refuse to start, the module never arms one)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import failpoints
from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
STRONG = "whsec_" + base64.b64encode(b"k" * 32).decode()
POINT = "submission.after_commit"


@pytest.fixture(autouse=True)
def _disarmed() -> Iterator[None]:
    yield
    failpoints.arm("")


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FUNDLEDGER_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_off_by_default_every_point_passes() -> None:
    assert failpoints.active() == {}
    for point in failpoints.POINTS:
        failpoints.hit(point)


def test_error_raises_only_at_its_point() -> None:
    failpoints.arm(f"{POINT}=error")
    failpoints.hit("bank.callback.after_store")
    with pytest.raises(failpoints.FailpointError, match=POINT):
        failpoints.hit(POINT)


@pytest.mark.parametrize(
    ("text", "rule"),
    [("no.such.point=kill", "no failpoint"), (f"{POINT}=explode", "action must be")],
)
def test_unknown_names_and_actions_are_refused(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        failpoints.parse(text)
    with pytest.raises(ValidationError, match=rule):
        Settings(failpoints=text)


def test_kill_ends_the_process_with_sigkill_and_says_where() -> None:
    done = _python(
        f"from app import failpoints; failpoints.hit('{POINT}'); print('survived')",
        FUNDLEDGER_FAILPOINTS=f"{POINT}=kill",
    )
    assert done.returncode == -signal.SIGKILL
    assert "survived" not in done.stdout
    assert f"failpoint {POINT}: kill" in done.stderr


def test_production_refuses_failpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(environment="production", bank_secret=STRONG, failpoints=f"{POINT}=kill")
    assert Settings(environment="test", failpoints=f"{POINT}=kill").failpoints
    # and the module itself never arms one there, whatever the settings say
    done = _python(
        f"from app import failpoints; failpoints.hit('{POINT}'); print(failpoints.active())",
        FUNDLEDGER_FAILPOINTS=f"{POINT}=kill",
        FUNDLEDGER_ENVIRONMENT="production",
    )
    assert done.returncode == 0 and done.stdout.strip() == "{}", done.stderr
    monkeypatch.setenv("FUNDLEDGER_ENVIRONMENT", "production")
    with pytest.raises(RuntimeError, match="refused in production"):
        failpoints.arm(f"{POINT}=kill")
    assert failpoints.active() == {}


def test_the_service_refuses_to_start_in_production_with_failpoints() -> None:
    done = _python(
        "from app.config import load_settings; load_settings()",
        FUNDLEDGER_ENVIRONMENT="production",
        FUNDLEDGER_BANK_SECRET=STRONG,
        FUNDLEDGER_FAILPOINTS=f"{POINT}=kill",
    )
    assert done.returncode != 0
    assert "FUNDLEDGER_FAILPOINTS is refused in production" in done.stderr
