"""Settings validation (issue 14.3): bank secrets are `whsec_` + base64 of at least 24 bytes,
the public development secret never runs in production, and no error quotes a secret."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEV_BANK_SECRET, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG = "whsec_" + base64.b64encode(b"k" * 32).decode()  # 32 bytes
SHORT = "whsec_" + base64.b64encode(b"k" * 23).decode()  # one byte short
# The development key written without its padding, or with other characters around it.
DEV_KEY = DEV_BANK_SECRET.removeprefix("whsec_")


def _errors(error: ValidationError) -> str:
    return str(error)


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_",  # empty key
        "whsec_!!!!",  # decodes to nothing
        "whsec_" + "a" * 31,  # not valid base64 (length)
        "whsec_" + base64.b64encode(b"x" * 30).decode() + "!",  # stray character
        SHORT,
        base64.b64encode(b"k" * 32).decode(),  # no whsec_ prefix
        "",
    ],
    ids=["empty", "bangs", "bad-length", "stray", "short", "no-prefix", "blank"],
)
@pytest.mark.parametrize("environment", ["production", "development"])
def test_malformed_or_weak_secrets_are_refused_everywhere(secret: str, environment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(environment=environment, bank_secret=secret)
    assert "FUNDLEDGER_BANK_SECRET" in _errors(caught.value)
    with pytest.raises(ValidationError) as caught:
        Settings(environment=environment, bank_secret=STRONG, bank_secrets_previous=[secret])
    assert "FUNDLEDGER_BANK_SECRETS_PREVIOUS[0]" in _errors(caught.value)


@pytest.mark.parametrize(
    "variant",
    [DEV_BANK_SECRET, DEV_BANK_SECRET + " ", " " + DEV_BANK_SECRET, DEV_BANK_SECRET + "\n"],
    ids=["exact", "trailing-space", "leading-space", "trailing-newline"],
)
def test_the_development_secret_is_refused_anywhere_in_production(variant: str) -> None:
    with pytest.raises(ValidationError, match="public development secret"):
        Settings(environment="production", bank_secret=variant)
    with pytest.raises(ValidationError, match="public development secret"):
        Settings(environment="production", bank_secret=STRONG, bank_secrets_previous=[variant])


def test_the_default_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="public development secret"):
        Settings(environment="production")


def test_development_keeps_its_secret_and_whitespace_is_trimmed() -> None:
    assert Settings(environment="development").bank_secret == DEV_BANK_SECRET
    settings = Settings(
        environment="production", bank_secret=f" {STRONG}\n", bank_secrets_previous=[STRONG]
    )
    assert settings.bank_secret == STRONG
    assert settings.bank_secrets_previous == [STRONG]


def test_errors_never_quote_a_secret() -> None:
    secret = "whsec_" + base64.b64encode(b"s3cr3t-value-0123456789").decode()  # 23 bytes
    for kwargs in (
        {"bank_secret": secret},
        {"bank_secret": secret[:-4] + "!!!!"},
        {"bank_secret": STRONG, "bank_secrets_previous": [secret]},
    ):
        with pytest.raises(ValidationError) as caught:
            Settings(environment="production", **kwargs)
        text = str(caught.value) + repr(caught.value)
        for part in (secret.removeprefix("whsec_")[-8:], "czNjcjN0"):
            assert part not in text


def test_load_settings_exits_with_the_rule_and_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDLEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("FUNDLEDGER_BANK_SECRET", DEV_BANK_SECRET + " ")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value.code)
    assert "FUNDLEDGER_BANK_SECRET" in message and "public development secret" in message
    assert DEV_KEY[-20:] not in message and DEV_KEY[:12] not in message


def test_the_command_line_refuses_to_start_and_prints_no_secret(tmp_path: Path) -> None:
    weak = "whsec_" + base64.b64encode(b"leaky-secret-material!").decode()  # 22 bytes
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUNDLEDGER_")}
    env.update(
        FUNDLEDGER_ENVIRONMENT="production",
        FUNDLEDGER_BANK_SECRET=weak,
        FUNDLEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "app", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "at least 24 random bytes" in output
    key = weak.removeprefix("whsec_")
    for start in range(0, len(key) - 5):
        assert key[start : start + 6] not in output
