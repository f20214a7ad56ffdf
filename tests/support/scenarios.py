"""Play scenario files on the test database backend and compare results with expectations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.db import make_engine, make_sessionmaker, transaction
from app.scenarios import runner
from app.scenarios.model import Scenario
from app.threeflow import service as threeflow
from tests.support.databases import fresh_database


def play(path: Path) -> dict[str, Any]:
    """Play a scenario on a fresh database; the three flows must agree at its end."""
    scenario = Scenario.model_validate(json.loads(path.read_text(encoding="utf-8")))
    with fresh_database() as url:  # at head: the runner's upgrade has nothing to do
        result = runner.run(scenario, url)
        assert_three_flows(url)
        return result


def assert_three_flows(url: str) -> None:
    """`fundledger check` on the played database finds no difference."""
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            report = threeflow.check(session)
        assert report.ok, threeflow.render(report)
        assert report.counts["fund_ledgers"] > 0
    finally:
        engine.dispose()


def mismatches(result: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Every field the expected result gives must match (SCENARIOS.md); in the trial balance,
    extra accounts are fine at a zero balance."""
    problems = []
    for key, want in expected.items():
        if key == "alerts" and key not in result:
            problems.append("alerts missing")
            continue
        got = result.get(key)
        if key == "trial_balance":
            for field in ("balanced", "debits", "credits"):
                if field in want and got.get(field) != want.get(field):
                    problems.append(f"trial_balance.{field}: {got.get(field)} != {want.get(field)}")
            have = {a["code"]: a["balance"] for a in got.get("accounts", [])}
            need = {a["code"]: a["balance"] for a in want.get("accounts", [])}
            for code, balance in need.items():
                if have.get(code) != balance:
                    problems.append(f"account {code}: {have.get(code)} != {balance}")
            for code, balance in have.items():
                if code not in need and balance != "0.00":
                    problems.append(f"unexpected account {code} at {balance}")
            continue
        if got != want:
            problems.append(
                f"{key}:\n got {json.dumps(got, ensure_ascii=False)}\nwant {json.dumps(want, ensure_ascii=False)}"
            )
    return problems


def expected_of(path: Path) -> dict[str, Any]:
    return json.loads(
        path.with_name(path.name.replace(".json", ".expected.json")).read_text(encoding="utf-8")
    )
