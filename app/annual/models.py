from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, JSONType, UTCDateTime
from app.payables.models import PayableColumns, status_check


class AnnualRule(Base):
    """A year's clearing rules: score bands → deposit return ratio, start date, deadline."""

    __tablename__ = "annual_rule"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # [[min_score_hundredths, return_ratio_bp], ...]
    assessment_bands: Mapped[Any] = mapped_column(JSONType)
    credit_bands: Mapped[Any] = mapped_column(JSONType)
    start_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Assessment(Base):
    """The annual assessment of one institution and insurance type."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("year", "fixmedins_code", "insutype"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    insutype: Mapped[str] = mapped_column(String(3))
    assessment_score: Mapped[int] = mapped_column(Integer)  # hundredths of a point
    credit_score: Mapped[int] = mapped_column(Integer)  # hundredths of a point
    clearing_amount_fen: Mapped[int | None] = mapped_column(Fen)  # 年度医保基金清算金额
    budget_fen: Mapped[int | None] = mapped_column(Fen)  # annual budget cap
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class AnnualClearing(Base, PayableColumns):
    """The annual clearing (年清算) of one institution, insurance type and year."""

    __tablename__ = "annual_clearing"
    __table_args__ = (
        UniqueConstraint("year", "fixmedins_code", "insutype"),
        status_check(),
        CheckConstraint(
            "gross_fen = clearing_amount_fen - settled_fen - forfeited_fen", name="gross"
        ),
        CheckConstraint("actual_fen = gross_fen - offset_fen", name="actual"),
        Index("ix_annual_clearing_status", "status"),
        # The approval queue: clearings waiting, by year, in id order.
        Index(
            "ix_annual_clearing_queue", "status", "year", "id", postgresql_include=["actual_fen"]
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    approved_fund_fen: Mapped[int] = mapped_column(Fen)
    clearing_amount_fen: Mapped[int] = mapped_column(Fen)
    settled_fen: Mapped[int] = mapped_column(Fen)
    deposit_held_fen: Mapped[int] = mapped_column(Fen)
    return_ratio_bp: Mapped[int] = mapped_column(Integer)
    forfeited_fen: Mapped[int] = mapped_column(Fen)
    gross_fen: Mapped[int] = mapped_column(Fen)
    offset_fen: Mapped[int] = mapped_column(Fen)
    actual_fen: Mapped[int] = mapped_column(Fen)
    base: Mapped[Any] = mapped_column(JSONType)  # the statements and assessment it used
