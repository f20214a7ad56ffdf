from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, UTCDateTime


class Declaration(Base):
    """A hospital's monthly declaration (月度申报) of one period."""

    __tablename__ = "declaration"
    __table_args__ = (UniqueConstraint("fixmedins_code", "insutype", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    insutype: Mapped[str] = mapped_column(String(3))
    period: Mapped[str] = mapped_column(String(7))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    declared_by: Mapped[str] = mapped_column(String(64))
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # after a reopening


class AuditItem(Base):
    """A smart-audit result (智能审核) on one settlement and rule, through appeal, review and
    consultation to its final deduction."""

    __tablename__ = "audit_item"
    __table_args__ = (
        UniqueConstraint("settlement_id", "rule_code"),
        CheckConstraint("status IN ('INITIAL', 'APPEALED', 'REVIEWED', 'FINAL')", name="status"),
        CheckConstraint("initial_amount_fen > 0", name="initial_amount"),
        Index("ix_audit_item_open", "fixmedins_code", "insutype", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    insutype: Mapped[str] = mapped_column(String(3))
    period: Mapped[str] = mapped_column(String(7))  # the settlement's period
    rule_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(300))
    initial_amount_fen: Mapped[int] = mapped_column(Fen)
    result_date: Mapped[date] = mapped_column(Date)
    appeal_deadline: Mapped[date] = mapped_column(Date)  # until 23:59 of this date
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal_reason: Mapped[str | None] = mapped_column(String(300))
    review_amount_fen: Mapped[int | None] = mapped_column(Fen)
    review_final: Mapped[bool | None] = mapped_column(Boolean)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consultation_amount_fen: Mapped[int | None] = mapped_column(Fen)
    consulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_amount_fen: Mapped[int | None] = mapped_column(Fen)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))
    taken_statement_id: Mapped[int | None] = mapped_column(BigId, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
