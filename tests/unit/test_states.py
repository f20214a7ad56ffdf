"""The shared status form (app/states.py)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from app.states import IllegalTransition, Machine, values


class Light(StrEnum):
    RED = "RED"
    GREEN = "GREEN"
    OFF = "OFF"


LIGHT = Machine(
    "a light", {Light.RED: {Light.GREEN, Light.OFF}, Light.GREEN: {Light.RED}, Light.OFF: set()}
)


def test_allowed_moves_pass_and_strings_are_accepted() -> None:
    LIGHT.check(Light.RED, Light.GREEN)
    LIGHT.check("GREEN", "RED")
    assert LIGHT.allows("RED", "OFF")


def test_a_move_outside_the_table_names_both_statuses() -> None:
    with pytest.raises(IllegalTransition, match="a light cannot go from OFF to RED"):
        LIGHT.check("OFF", "RED")
    assert not LIGHT.allows("GREEN", "OFF")


def test_an_unknown_status_is_an_error_not_a_refusal() -> None:
    with pytest.raises(ValueError):
        LIGHT.check("BLUE", "RED")


def test_final_and_values() -> None:
    assert LIGHT.final() == {Light.OFF}
    assert values(Light) == ("RED", "GREEN", "OFF")


def test_a_table_must_cover_every_status() -> None:
    with pytest.raises(AssertionError, match="no row for"):
        Machine("a light", {Light.RED: {Light.GREEN}, Light.GREEN: set()})
