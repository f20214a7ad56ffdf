from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.bank.rules import InstructionStatus
from app.db import Base, BigId, Fen, JSONType, UTCDateTime
from app.states import values

INSTRUCTION_STATUSES = values(InstructionStatus)


class PaymentInstruction(Base):
    """A payment instruction to the fund's bank (outbox): saved before any call to the bank."""

    __tablename__ = "payment_instruction"
    __table_args__ = (
        CheckConstraint(
            "status IN ('QUEUED', 'ACCEPTED', 'SUCCESS', 'FAILED', 'RETURNED', 'UNKNOWN')",
            name="status",
        ),
        CheckConstraint(
            "kind IN ('daily', 'monthly', 'annual', 'assistance', 'person')", name="kind"
        ),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_payment_instruction_open", "status", "sent_at"),
        Index("ix_payment_instruction_source", "source_kind", "source_id"),
        # The payment monitor: a submission day's instructions by status.
        Index("ix_payment_instruction_requested", "requested_date", "status"),
        # A fund ledger's results of a statement's days (the bank statement job, daily).
        Index("ix_payment_instruction_fund_result", "region_code", "insutype", "result_at"),
        # The resends of a first instruction (a submission counts them per payment): few rows.
        Index(
            "ix_payment_instruction_resend_of",
            "resend_of",
            postgresql_where=text("resend_of IS NOT NULL"),
            sqlite_where=text("resend_of IS NOT NULL"),
        ),
    )

    instruction_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    payer_account: Mapped[str] = mapped_column(String(34))
    payer_name: Mapped[str] = mapped_column(String(100))
    payee_account: Mapped[str] = mapped_column(String(34))
    payee_name: Mapped[str] = mapped_column(String(100))
    payee_bank_code: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(100))
    requested_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    source_kind: Mapped[str] = mapped_column(String(24))  # daily_line | statement | ...
    source_id: Mapped[int] = mapped_column(BigId)
    period: Mapped[str | None] = mapped_column(String(7))
    resend_of: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    receipt_no: Mapped[str | None] = mapped_column(String(40))
    receipt: Mapped[Any] = mapped_column(JSONType, nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(String(200))
    # a daily payment: [[period, amount_fen], ...] by its settlements' periods (a return is
    # owed per period, read here so it never asks the daily domain); None otherwise
    period_split: Mapped[Any] = mapped_column(JSONType, nullable=True)


class BankEvent(Base):
    """A result callback from the bank (inbox): stored, unique on its event id, before it is
    applied; a replay answers what the first delivery got."""

    __tablename__ = "bank_event"

    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[Any] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    instruction_id: Mapped[str | None] = mapped_column(String(30), index=True)
    status: Mapped[str | None] = mapped_column(String(10))
    http_status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(200))


class BankReturn(Base):
    """Money the bank returned after a success (退票), owed to the institution again, per
    settlement period for a daily payment (SPEC §4 `returned`)."""

    __tablename__ = "bank_return"
    __table_args__ = (
        Index("uq_bank_return_instruction_period", "instruction_id", "period", unique=True),
        Index("ix_bank_return_open", "fixmedins_code", "insutype", "taken_by"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instruction_id: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    period: Mapped[str | None] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(Fen)
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_by: Mapped[str | None] = mapped_column(String(40))  # "statement:<id>" / "clearing:<id>"
