"""The scenario file's model (SCENARIOS.md): the assistance fund's keys and events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.scenarios.assistance import recipient_body
from app.scenarios.model import ASSISTANCE_EVENT_TYPES, Scenario

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "tests" / "scenarios" / "assistance" / "assistance-basic.json"


def _file() -> dict[str, Any]:
    return dict(json.loads(BASIC.read_text(encoding="utf-8")))


def test_the_assistance_scenario_validates_and_says_it_plays_the_fund() -> None:
    scenario = Scenario.model_validate(_file())
    scenario.check()
    assert scenario.has_assistance
    assert [fund.region for fund in scenario.assistance_funds] == ["640100"]
    assert {event.type for event in scenario.events} - {"settlement", "appropriation"} <= set(
        ASSISTANCE_EVENT_TYPES
    )


def test_assistance_events_without_the_fund_are_refused_before_anything_plays() -> None:
    data = _file()
    data["assistance_funds"] = []
    scenario = Scenario.model_validate(data)
    with pytest.raises(ValueError, match="assistance_funds"):
        scenario.check()


def test_a_basic_scenario_has_no_assistance() -> None:
    data = _file()
    for key in ("assistance_funds", "assistance_policies", "recipients"):
        data.pop(key)
    data["events"] = [e for e in data["events"] if e["type"] in ("settlement", "appropriation")]
    scenario = Scenario.model_validate(data)
    scenario.check()
    assert not scenario.has_assistance


def test_an_unknown_event_type_is_refused() -> None:
    data = _file()
    data["events"][0]["type"] = "assistance_guess"
    with pytest.raises(ValueError, match="type"):
        Scenario.model_validate(data)


def test_a_recipient_entry_becomes_the_register_body() -> None:
    entry = _file()["recipients"][0]
    body = recipient_body(entry)
    assert body == {
        "name": "张某",
        "certno": "640102198001011234",
        "region_code": "640100",
        "categories": entry["categories"],
        "bank_account": "6222000000009001",
        "bank_account_name": "张某",
        "bank_code": "102871000011",
        "last_year_income": "20000.00",
    }
