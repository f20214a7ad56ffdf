"""Settings from FUNDLEDGER_* environment variables or a .env file (API.md)."""

from __future__ import annotations

import base64
import binascii
import hmac
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import failpoints

# The development bank secret. Production refuses to start with it.
DEV_BANK_SECRET = "whsec_ZnVuZGxlZGdlci1kZXZlbG9wbWVudC1vbmx5LXNlY3JldA=="  # noqa: S105 - public on purpose

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks marker, not a secret
SECRET_BYTES_MIN = 24

BODY_LIMIT_BYTES_DEFAULT = 1024 * 1024
BODY_LIMIT_BYTES_BULK = 16 * 1024 * 1024
BODY_LIMIT_BYTES_BANK = 64 * 1024
# A console form carrying a file (an appeal's scan, ≤ 5 MiB) and its other fields.
BODY_LIMIT_BYTES_UPLOAD = 6 * 1024 * 1024


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value (a bank secret) is never echoed in an error.
    model_config = SettingsConfigDict(
        env_prefix="FUNDLEDGER_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./fundledger.db"
    bank_url: str = "http://127.0.0.1:8900"
    bank_id: str = "FUNDBANK"
    bank_secret: str = Field(default=DEV_BANK_SECRET, validate_default=True)
    # Earlier secrets still accepted on callbacks while the bank rotates keys.
    bank_secrets_previous: list[str] = Field(default_factory=list)
    callback_url: str = "http://127.0.0.1:8000/api/v1/bank/receipts"
    log_level: str = "INFO"
    # json: one JSON object per line with the request id (docs/operations.md); text: for a
    # person reading a terminal
    log_format: Literal["json", "text"] = "json"
    # A fund ledger's balance snapshot every this many journal entries: an as-of balance adds
    # up at most about this many entries after one (docs/rules.md "Balance snapshots").
    ledger_snapshot_every: int = Field(default=1000, ge=10, le=1_000_000)
    body_limit_bytes: int = Field(default=BODY_LIMIT_BYTES_DEFAULT, gt=0)
    bulk_body_limit_bytes: int = Field(default=BODY_LIMIT_BYTES_BULK, gt=0)
    bank_connect_timeout_s: float = Field(default=3.0, gt=0)
    bank_read_timeout_s: float = Field(default=10.0, gt=0)
    bank_requery_after_s: int = Field(default=30 * 60, gt=0)
    # The web console logs a person out after this long without a page view.
    console_idle_timeout_s: int = Field(default=30 * 60, gt=0)
    # The database connection pool of each API process (docs/operations.md "Capacity"): at
    # most size + overflow connections per process; a request that waits longer than the
    # timeout for one is answered 503 with Retry-After (below a client's usual 10 s timeout).
    db_pool_size: int = Field(default=5, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    db_pool_timeout_s: float = Field(default=5.0, gt=0, le=300)
    # Failpoints for the fault tests (app/failpoints.py); refused in production.
    failpoints: str = ""

    @field_validator("failpoints")
    @classmethod
    def _failpoints(cls, value: str, info: ValidationInfo) -> str:
        points = failpoints.parse(value)  # unknown names and actions refused everywhere
        if points and info.data.get("environment") == "production":
            raise ValueError("FUNDLEDGER_FAILPOINTS is refused in production")
        return value

    @field_validator("bank_secret")
    @classmethod
    def _bank_secret(cls, value: str, info: ValidationInfo) -> str:
        return check_secret(value, "FUNDLEDGER_BANK_SECRET", info.data.get("environment"))

    @field_validator("bank_secrets_previous")
    @classmethod
    def _bank_secrets_previous(cls, values: list[str], info: ValidationInfo) -> list[str]:
        environment = info.data.get("environment")
        return [
            check_secret(value, f"FUNDLEDGER_BANK_SECRETS_PREVIOUS[{index}]", environment)
            for index, value in enumerate(values)
        ]


def secret_bytes(secret: str) -> bytes | None:
    """The key of a `whsec_<base64>` secret, or None when it is not written so (strict base64:
    no stray characters, correct padding)."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return None


def check_secret(value: str, name: str, environment: str | None) -> str:
    """A bank secret, surrounding whitespace trimmed: `whsec_` + base64 of at least 24 bytes;
    in production never the public development key (compared as key bytes, so no other
    spelling of it passes). Messages never quote any part of the secret."""
    secret = value.strip()
    key = secret_bytes(secret)
    if key is None:
        raise ValueError(f"{name} must be written {SECRET_PREFIX}<base64>")
    if len(key) < SECRET_BYTES_MIN:
        raise ValueError(f"{name} must decode to at least {SECRET_BYTES_MIN} random bytes")
    dev_key = secret_bytes(DEV_BANK_SECRET)
    assert dev_key is not None
    if environment == "production" and hmac.compare_digest(key, dev_key):
        raise ValueError(f"{name} is the public development secret: set a real one in production")
    return secret


class SettingsError(SystemExit):
    """Settings that cannot start the service: exits with the rules broken, no value quoted."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        raise SettingsError(f"fundledger: invalid settings: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
