from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, UTCDateTime


class Appropriation(Base):
    """Money put into a fund ledger's expenditure account (基金划入)."""

    __tablename__ = "appropriation"
    __table_args__ = (
        UniqueConstraint("region_code", "insutype", "reference"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    amount_fen: Mapped[int] = mapped_column(Fen)
    reference: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int] = mapped_column(BigId)


class FundingRequest(Base):
    """A funding request (用款计划): what a fund ledger's expenditure account lacked for one
    submission day (the payments due against the ledger's available balance), raised by the
    funds check; one per fund ledger and date, brought up to date by each run of that day,
    COVERED once a later run finds the money there."""

    __tablename__ = "funding_request"
    __table_args__ = (
        UniqueConstraint("fund_ledger_id", "request_date"),
        CheckConstraint("status IN ('OPEN', 'COVERED')", name="status"),
        CheckConstraint("mode IN ('warn', 'block')", name="mode"),
        CheckConstraint("shortfall_fen > 0", name="shortfall_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fund_ledger_id: Mapped[int] = mapped_column(ForeignKey("fund_ledger.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    request_date: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(5))
    due_fen: Mapped[int] = mapped_column(Fen)  # about to be sent
    available_fen: Mapped[int] = mapped_column(Fen)  # bank + in_transit before the sending
    shortfall_fen: Mapped[int] = mapped_column(Fen)  # the amount needed
    payments: Mapped[int] = mapped_column(Integer)
    held: Mapped[bool] = mapped_column(Boolean)  # block mode: nothing was sent
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    covered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
