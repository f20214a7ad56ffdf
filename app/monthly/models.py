from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, UTCDateTime
from app.payables.machine import DocumentStatus
from app.payables.models import PayableColumns, status_check
from app.states import values


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
        # The 23:59 finalisation (INITIAL past its appeal deadline), the count of a status.
        Index("ix_audit_item_status_deadline", "status", "appeal_deadline"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_key.id"), index=True)
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


class PeriodReopening(Base):
    """An operator lets an institution declare a period after its deadline."""

    __tablename__ = "period_reopening"
    __table_args__ = (UniqueConstraint("fixmedins_code", "insutype", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    insutype: Mapped[str] = mapped_column(String(3))
    period: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(String(300))
    reopened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reopened_by: Mapped[str] = mapped_column(String(64))


class AuditStep(Base):
    """History of an audit result: every step, who, when, with what amount."""

    __tablename__ = "audit_step"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    audit_item_id: Mapped[int] = mapped_column(ForeignKey("audit_item.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # initial|appeal|review|consultation|final
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    note: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))


class ProcurementAdvance(Base):
    """Money the fund advanced to suppliers for an institution's drugs and consumables
    (药耗招采垫付), recovered from its monthly statement."""

    __tablename__ = "procurement_advance"
    __table_args__ = (
        UniqueConstraint("reference"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_procurement_advance_open", "fixmedins_code", "insutype", "taken_statement_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    period: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(Fen)
    reference: Mapped[str] = mapped_column(String(60))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(64))
    taken_statement_id: Mapped[int | None] = mapped_column(BigId)


STATEMENT_STATUSES = values(DocumentStatus)  # for the pages' filters


class MonthlyStatement(Base, PayableColumns):
    """The monthly settlement (月结算) of one institution, insurance type and period."""

    __tablename__ = "monthly_statement"
    __table_args__ = (
        UniqueConstraint("fixmedins_code", "insutype", "period"),
        status_check(),
        CheckConstraint(
            "net_fen = ratio_amount_fen - audit_fen - daily_paid_fen - procurement_fen"
            " + returned_fen - offset_fen",
            name="components_sum_to_net",
        ),
        CheckConstraint("ratio_amount_fen = fund_pay_fen - deposit_fen", name="ratio_amount"),
        CheckConstraint("offset_fen >= 0", name="offset_non_negative"),
        Index("ix_monthly_statement_status", "status"),
        # The approval queue: statements waiting, by fund ledger and period, in id order.
        Index(
            "ix_monthly_statement_queue",
            "status",
            "region_code",
            "insutype",
            "period",
            "id",
            postgresql_include=["net_fen"],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    deposit_rate_bp: Mapped[int] = mapped_column(Integer)
    fund_pay_fen: Mapped[int] = mapped_column(Fen)
    deposit_fen: Mapped[int] = mapped_column(Fen)
    ratio_amount_fen: Mapped[int] = mapped_column(Fen)
    audit_fen: Mapped[int] = mapped_column(Fen)
    daily_paid_fen: Mapped[int] = mapped_column(Fen)
    procurement_fen: Mapped[int] = mapped_column(Fen)
    returned_fen: Mapped[int] = mapped_column(Fen)
    offset_fen: Mapped[int] = mapped_column(Fen)
    net_fen: Mapped[int] = mapped_column(Fen)


class Repayment(Base):
    """Cash an institution paid back against its receivable (现金追款)."""

    __tablename__ = "repayment"
    __table_args__ = (
        UniqueConstraint("region_code", "insutype", "receipt_no"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    amount_fen: Mapped[int] = mapped_column(Fen)
    receipt_no: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


ATTACHMENT_BYTES_MAX = 5 * 1024 * 1024
ATTACHMENT_MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg")


class AuditAttachment(Base):
    """A file attached to the appeal of an audit result (申诉材料): a PDF or an image scan of at
    most 5 MiB, its type read from its first bytes, kept in the database with its SHA-256; the
    same file twice on one result is kept once. The service never changes or deletes one."""

    __tablename__ = "audit_attachment"
    __table_args__ = (
        UniqueConstraint("audit_item_id", "sha256"),
        CheckConstraint(f"size_bytes > 0 AND size_bytes <= {ATTACHMENT_BYTES_MAX}", name="size"),
        CheckConstraint(
            "media_type IN ('application/pdf', 'image/png', 'image/jpeg')", name="media_type"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    audit_item_id: Mapped[int] = mapped_column(ForeignKey("audit_item.id"))
    filename: Mapped[str] = mapped_column(String(120))
    media_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read to download
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))
