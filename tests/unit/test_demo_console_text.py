"""What `fundledger serve --demo` prints about the console: its address and a table of the
demo's logins, one per role, saying whether the passwords were made now or reset."""

from __future__ import annotations

import re

from app import demo
from app.cli import _console_logins_text

PEOPLE = [
    demo.ConsoleLogin("scenario-H640103", "hospital", "Abcdefgh23456789", "银川市第一人民医院"),
    demo.ConsoleLogin("scenario-accountant", "accountant", "Zyxwvuts98765432", None),
]
ADDRESS = "http://127.0.0.1:8000/console/"


def test_the_table_lists_role_name_password_and_the_chinese_role() -> None:
    text = _console_logins_text(PEOPLE, ADDRESS, kept=False)
    lines = text.splitlines()
    assert lines[0] == f"The console (医保基金结算工作台): {ADDRESS}"
    assert "made for this start" in lines[1] and "shown once" in lines[1]
    rows = [line.split() for line in lines if line.startswith("  ")]
    assert rows == [
        ["role", "name", "password"],
        ["hospital", "scenario-H640103", "Abcdefgh23456789", "医院财务", "·", "银川市第一人民医院"],
        ["accountant", "scenario-accountant", "Zyxwvuts98765432", "基金财务"],
    ]
    # The ASCII columns line up (the Chinese one, two columns a character, comes last).
    starts = {line.index(row[2]) for line, row in zip(lines[3:], rows, strict=True)}
    assert len(starts) == 1


def test_a_kept_demo_database_says_its_passwords_are_reset() -> None:
    text = _console_logins_text(PEOPLE, ADDRESS, kept=True)
    assert re.search(r"kept from an earlier start: its passwords are reset", text)
    assert "the earlier ones no longer work" in text
    assert "made for this start" not in text


def test_every_password_is_new_and_has_no_look_alikes() -> None:
    passwords = {demo.new_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) == demo.PASSWORD_CHARS >= 16
        assert not set(password) & set("0oO1ilI")
        assert set(password) <= set(demo.PASSWORD_ALPHABET)
