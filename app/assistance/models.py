"""Tables of the medical-assistance recipients register (SPEC-ASSISTANCE A2, A10 "Recipients")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.assistance.policy import Category
from app.db import Base, BigId, Fen, JSONType, UTCDateTime

CATEGORY_VALUES = ", ".join(f"'{category.value}'" for category in Category)
IMPORT_SOURCES = ("civil_affairs", "poverty", "disabled_persons")
SOURCE_VALUES = ", ".join(f"'{source}'" for source in IMPORT_SOURCES)


class Recipient(Base):
    """A person in the register (救助对象). The certificate number is stored in full and shown
    masked to every role but admin; `last_year_income_fen` feeds the burden line (A8)."""

    __tablename__ = "recipient"
    __table_args__ = (CheckConstraint("last_year_income_fen >= 0", name="income"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    psn_no: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    certno: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    bank_account: Mapped[str | None] = mapped_column(String(34))
    bank_account_name: Mapped[str | None] = mapped_column(String(100))
    bank_code: Mapped[str | None] = mapped_column(String(12))
    last_year_income_fen: Mapped[int] = mapped_column(Fen, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecipientCategory(Base):
    """A category a person holds from `valid_from` to `valid_to` (inclusive; null = open).
    The key is (person, category, valid_from): a record with the same key replaces it."""

    __tablename__ = "recipient_category"
    __table_args__ = (
        UniqueConstraint("recipient_id", "category", "valid_from"),
        CheckConstraint(f"category IN ({CATEGORY_VALUES})", name="category"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipient.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class RecipientImport(Base):
    """One monthly list of an office (每月10日前推送), idempotent per (source, month): the same
    content again is a replay of `result`, other content a conflict."""

    __tablename__ = "recipient_import"
    __table_args__ = (
        UniqueConstraint("source", "month"),
        CheckConstraint(f"source IN ({SOURCE_VALUES})", name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    content_hash: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int] = mapped_column(Integer)
    result: Mapped[Any] = mapped_column(JSONType)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(64))
