from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.daily.rules import BatchStatus
from app.db import Base, BigId, Fen, UTCDateTime
from app.states import values

BATCH_STATUSES = values(BatchStatus)


class DailyBatch(Base):
    """The daily batch of one fund ledger for one business date (日拨付, T+1)."""

    __tablename__ = "daily_batch"
    __table_args__ = (
        UniqueConstraint("fund_ledger_id", "business_date"),
        CheckConstraint(
            "status IN ('PUSHED', 'APPROVED', 'REJECTED', 'SUBMITTED', 'EMPTY')", name="status"
        ),
        Index("ix_daily_batch_due", "status", "pay_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fund_ledger_id: Mapped[int] = mapped_column(ForeignKey("fund_ledger.id"))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    business_date: Mapped[date] = mapped_column(Date)
    # Members: the fund ledger's settlements with batch_date in [first_batch_date (None: from
    # the beginning), business_date], less those revoked before generation.
    first_batch_date: Mapped[date | None] = mapped_column(Date)
    pay_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pushed_by: Mapped[str] = mapped_column(String(64))
    push_round: Mapped[int] = mapped_column(Integer, default=1)
    approvals_required: Mapped[int] = mapped_column(Integer, default=1)
    rejected_reason: Mapped[str | None] = mapped_column(String(300))
    rejected_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    settlement_count: Mapped[int] = mapped_column(Integer, default=0)
    amount_fen: Mapped[int] = mapped_column(Fen, default=0)  # Σ line amounts
    fund_total_fen: Mapped[int] = mapped_column(Fen, default=0)  # Σ fund amounts


class DailyLine(Base):
    """One institution's payment summary (支付汇总单) in a batch; its details (明细) are the
    batch's member settlements of that institution, each with its stored daily amount."""

    __tablename__ = "daily_line"
    __table_args__ = (
        UniqueConstraint("batch_id", "fixmedins_code"),
        # The few lines of a batch set aside (held back, or withdrawn by a monthly
        # computation): the approval queue subtracts them from the batch's totals.
        Index(
            "ix_daily_line_set_aside",
            "batch_id",
            postgresql_where=text("held IS true OR withdrawn_at IS NOT NULL"),
            sqlite_where=text("held IS 1 OR withdrawn_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("daily_batch.id"))
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    settlement_count: Mapped[int] = mapped_column(Integer)
    fund_total_fen: Mapped[int] = mapped_column(Fen)
    amount_fen: Mapped[int] = mapped_column(Fen)  # Σ daily amounts of its details
    late: Mapped[bool] = mapped_column(Boolean)  # holds a settlement dated before the date
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # held back by the operator
    held_by: Mapped[str | None] = mapped_column(String(64))
    # Set when a monthly computation takes over its settlements before it was sent.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instruction_id: Mapped[str | None] = mapped_column(String(30), unique=True)


class DailyApproval(Base):
    """An accountant's approval of a batch in one push round (maker–checker, 4-eyes)."""

    __tablename__ = "daily_approval"
    __table_args__ = (UniqueConstraint("batch_id", "push_round", "approver"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("daily_batch.id"), index=True)
    push_round: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DailyPaymentSummary(Base):
    """Month-start summary (SPEC §3.8): last month's successful daily payments by payment
    date, per institution and insurance type; a report for the business side."""

    __tablename__ = "daily_payment_summary"
    __table_args__ = (
        UniqueConstraint("month", "region_code", "insutype", "fixmedins_code", "pay_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    pay_date: Mapped[date] = mapped_column(Date)
    payments: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Fen)
    compiled_at: Mapped[datetime] = mapped_column(UTCDateTime)
