"""Settings from FUNDLEDGER_* environment variables or a .env file (API.md)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development bank secret. Production refuses to start with it.
DEV_BANK_SECRET = "whsec_ZnVuZGxlZGdlci1kZXZlbG9wbWVudC1vbmx5LXNlY3JldA=="  # noqa: S105 - public on purpose

BODY_LIMIT_BYTES_DEFAULT = 1024 * 1024
BODY_LIMIT_BYTES_BULK = 16 * 1024 * 1024
BODY_LIMIT_BYTES_BANK = 64 * 1024
# A console form carrying a file (an appeal's scan, ≤ 5 MiB) and its other fields.
BODY_LIMIT_BYTES_UPLOAD = 6 * 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FUNDLEDGER_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./fundledger.db"
    bank_url: str = "http://127.0.0.1:8900"
    bank_id: str = "FUNDBANK"
    bank_secret: str = DEV_BANK_SECRET
    # Earlier secrets still accepted on callbacks while the bank rotates keys.
    bank_secrets_previous: list[str] = Field(default_factory=list)
    callback_url: str = "http://127.0.0.1:8000/api/v1/bank/receipts"
    log_level: str = "INFO"
    body_limit_bytes: int = Field(default=BODY_LIMIT_BYTES_DEFAULT, gt=0)
    bulk_body_limit_bytes: int = Field(default=BODY_LIMIT_BYTES_BULK, gt=0)
    bank_connect_timeout_s: float = Field(default=3.0, gt=0)
    bank_read_timeout_s: float = Field(default=10.0, gt=0)
    bank_requery_after_s: int = Field(default=30 * 60, gt=0)
    # The web console logs a person out after this long without a page view.
    console_idle_timeout_s: int = Field(default=30 * 60, gt=0)

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.bank_secret == DEV_BANK_SECRET:
            raise ValueError(
                "FUNDLEDGER_BANK_SECRET must be set in production (the default is public)"
            )
        if not self.bank_secret.startswith("whsec_"):
            raise ValueError("FUNDLEDGER_BANK_SECRET must be written whsec_<base64>")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
