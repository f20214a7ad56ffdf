"""Tables of the stored assistance policy and the yearly prepayment (SPEC-ASSISTANCE A4, A8,
A10 "Prepayment")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.assistance.prepayment import PrepaymentStatus
from app.db import Base, BigId, Fen, JSONType, UTCDateTime

PREPAYMENT_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in PrepaymentStatus)


class AssistancePolicyVersion(Base):
    """One effective-dated version of a region's assistance policy. `content` is the body as
    posted (canonical JSON, yuan and ratio strings), `content_hash` its sha256: the same
    (region, effective_from) again with the same content is a replay, other content a
    conflict. Versions are never changed; a new one starts on its own date."""

    __tablename__ = "assistance_policy"
    __table_args__ = (UniqueConstraint("region_code", "effective_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    effective_from: Mapped[date] = mapped_column(Date)
    content: Mapped[Any] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class PrepaymentRow(Base):
    """The prepayment of a region and year (预付款): computed once, approved by two
    accountants, received with the bank's reference."""

    __tablename__ = "assistance_prepayment"
    __table_args__ = (
        UniqueConstraint("region_code", "year"),
        CheckConstraint(f"status IN ({PREPAYMENT_STATUS_VALUES})", name="status"),
        CheckConstraint("transfer_fen >= 0", name="transfer"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    year: Mapped[int] = mapped_column(Integer)
    computed_on: Mapped[date] = mapped_column(Date)
    actual_fen: Mapped[int] = mapped_column(Fen)
    rate_bp: Mapped[int] = mapped_column(Integer)
    due_fen: Mapped[int] = mapped_column(Fen)
    carried_fen: Mapped[int] = mapped_column(Fen)
    transfer_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(10))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[str | None] = mapped_column(String(64))


class PrepaymentApproval(Base):
    """One accountant's approval of a prepayment with the finance bureau's reference."""

    __tablename__ = "assistance_prepayment_approval"
    __table_args__ = (UniqueConstraint("prepayment_id", "approver"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prepayment_id: Mapped[int] = mapped_column(ForeignKey("assistance_prepayment.id"), index=True)
    approver: Mapped[str] = mapped_column(String(64))
    approval_ref: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
