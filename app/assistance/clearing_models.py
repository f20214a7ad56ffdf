"""Tables of the individual clearing (SPEC-ASSISTANCE A7, A10 "Clearings"; issue 22 item 4):
the clearing results (never changed but for the taken-back mark of a rejected top-up), the
annual clearings triggered (one per region and year) and the daily suggestions (提示)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, UTCDateTime


class AssistanceClearing(Base):
    """One clearing result of a person-year. `snapshot` is the canonical JSON of its inputs
    (items, bases, amounts, categories, deductions, granted parts) and `snapshot_hash` its
    sha256; `inputs_hash` the sha256 of the part the suggestions compare (items, deductions,
    categories); `request_hash` what was asked (replays). `taken_back_at`: its top-up was
    rejected and the result no longer counts in granted."""

    __tablename__ = "assistance_clearing"
    __table_args__ = (
        CheckConstraint("mode IN ('realtime', 'annual')", name="mode"),
        CheckConstraint(
            "(difference_fen >= 0 AND resolution IS NULL) OR "
            "(difference_fen < 0 AND resolution IN ('next_period', 'cash'))",
            name="resolution",
        ),
        Index("ix_assistance_clearing_person_year", "psn_no", "year", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    psn_no: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))
    due_fen: Mapped[int] = mapped_column(Fen)
    granted_fen: Mapped[int] = mapped_column(Fen)  # before this result
    difference_fen: Mapped[int] = mapped_column(Fen)
    resolution: Mapped[str | None] = mapped_column(String(12))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    made_by: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    taken_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AnnualClearingRun(Base):
    """An annual clearing (定时清算) of a region and year, triggered once."""

    __tablename__ = "assistance_annual_clearing"
    __table_args__ = (UniqueConstraint("region_code", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    made_by: Mapped[str] = mapped_column(String(64))


class ClearingSuggestion(Base):
    """A person-year the 06:00 job found changed since its last clearing (or never cleared)
    with a difference ≠ 0 (实时清算提示); refreshed by each run, removed by its clearing."""

    __tablename__ = "assistance_clearing_suggestion"
    __table_args__ = (
        UniqueConstraint("psn_no", "year"),
        Index("ix_assistance_clearing_suggestion_region", "region_code", "psn_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    psn_no: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    difference_fen: Mapped[int] = mapped_column(Fen)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
