"""schemathesis over every operation of the OpenAPI, with a token of every role, against the
service serving a database filled by the public scenario (march-basic), every check on
(tests/api/schemathesis.toml). Any 5xx, response-schema violation or other finding fails.

It runs on this run's backend (SQLite, or PostgreSQL in the PostgreSQL half of `make test`),
bounded in examples so it stays within a few minutes. FUNDLEDGER_SCHEMATHESIS_EXAMPLES and
FUNDLEDGER_SCHEMATHESIS_SEED change the bound and the seed for a longer exploration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth
from app.auth.principal import Principal
from app.bank.simserver import serve_in_thread
from app.clock import SimulatedClock
from app.config import Settings
from app.db import make_engine, make_sessionmaker, transaction
from app.main import create_app
from app.scenarios import runner
from app.scenarios.model import Scenario
from tests.support.databases import backend, fresh_database

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "public" / "march-basic.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EXAMPLES = int(os.environ.get("FUNDLEDGER_SCHEMATHESIS_EXAMPLES", "8"))
SEED = int(os.environ.get("FUNDLEDGER_SCHEMATHESIS_SEED", "14"))
ROLES = {  # role -> institution of its user
    "admin": None,
    "operator": None,
    "accountant": None,
    "auditor": None,
    "hospital": "H001",
}
# The scenario ends on 2027-06-01; the service's clock stays there during the run.
NOW = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)


def _tokens(factory: sessionmaker[Session]) -> dict[str, str]:
    tokens = {}
    with transaction(factory) as session:
        actor = Principal(None, "schemathesis-setup", "admin")
        for role, code in ROLES.items():
            name = f"schemathesis-{role}"
            auth.create_user(
                session, name=name, role=role, fixmedins_code=code, actor=actor, now=NOW
            )
            tokens[role] = auth.issue_token(session, name=name, actor=actor, now=NOW)[1]
    return tokens


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, dict[str, str]]]:
    """The service on a free port over a fresh database the public scenario filled."""
    scenario = Scenario.model_validate(json.loads(SCENARIO.read_text(encoding="utf-8")))
    with fresh_database(migrated=False) as url:
        runner.run(scenario, url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        tokens = _tokens(factory)
        settings = Settings(environment="test", database_url=url)
        app = create_app(settings, session_factory=factory, clock=SimulatedClock(NOW))
        base, stop = serve_in_thread(app)
        try:
            yield base, tokens
        finally:
            stop()
            engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
def test_schemathesis_finds_nothing(
    service: tuple[str, dict[str, str]], role: str, tmp_path: Path
) -> None:
    base, tokens = service
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--no-color",
        "--header",
        f"Authorization: Bearer {tokens[role]}",
    ]
    started = time.monotonic()
    env = dict(os.environ, SCHEMATHESIS_HOOKS=str(HOOKS))
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    seconds = time.monotonic() - started
    summary = result.stdout[result.stdout.rfind("SUMMARY") :]
    print(f"schemathesis as {role} on {backend()}: {seconds:.0f} s\n{summary}")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
