from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, UTCDateTime

ROLES = ("hospital", "operator", "accountant", "auditor", "admin")


class User(Base):
    """A person or a system client (a hospital's upload client, a scenario actor)."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('hospital', 'operator', 'accountant', 'auditor', 'admin')", name="role"
        ),
        CheckConstraint(
            "(role = 'hospital') = (fixmedins_code IS NOT NULL)", name="hospital_has_institution"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    fixmedins_code: Mapped[str | None] = mapped_column(
        String(30), ForeignKey("institution.code"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Console login (people): an argon2id hash, never the password; None = no console login.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Wrong passwords since the last success; the fifth locks the name until locked_until.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsoleSession(Base):
    """A person's console login: the cookie holds a random id, only its SHA-256 is stored.

    Live while ended_at is None and last_seen_at is within the idle timeout."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))  # logout | idle | password
