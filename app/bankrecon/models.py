"""Bank statements of the expenditure accounts (银行对账单) and their reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, JSONType, UTCDateTime


class BankStatement(Base):
    """One version of the bank's end-of-day statement of an expenditure account. A corrected
    statement of the same account and date is a new version; the one it replaces keeps its
    rows with `superseded_at` (history). Its reconciliation (余额调节表) is stored with it."""

    __tablename__ = "bank_statement"
    __table_args__ = (
        UniqueConstraint("account", "statement_date", "version"),
        CheckConstraint("status IN ('RECONCILED', 'DIFFERENCES')", name="status"),
        CheckConstraint("source IN ('fetch', 'upload')", name="source"),
        Index("ix_bank_statement_fund", "region_code", "insutype", "statement_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account: Mapped[str] = mapped_column(String(34))
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    statement_date: Mapped[date] = mapped_column(Date)
    from_date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    opening_fen: Mapped[int] = mapped_column(Fen)
    closing_fen: Mapped[int] = mapped_column(Fen)
    entry_count: Mapped[int] = mapped_column(Integer)
    body_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[Any] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_by: Mapped[str] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(12))
    ledger_balance_fen: Mapped[int] = mapped_column(Fen)
    bank_only_fen: Mapped[int] = mapped_column(Fen)  # signed: + money in
    ledger_only_fen: Mapped[int] = mapped_column(Fen)
    unexplained_fen: Mapped[int] = mapped_column(Fen)
    reconciliation: Mapped[Any] = mapped_column(JSONType)


class BankStatementEntry(Base):
    """One entry of a statement, with what it matched (`ledger_ref`: the business reference
    of the ledger entry on the `bank` account it corresponds to)."""

    __tablename__ = "bank_statement_entry"
    __table_args__ = (
        UniqueConstraint("statement_id", "line_no"),
        CheckConstraint("direction IN ('D', 'C')", name="direction"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_bank_statement_entry_ref", "ledger_ref", "direction"),
        Index("ix_bank_statement_entry_business_ref", "business_ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    bank_serial: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(1))  # D money out, C money in (bank's terms)
    amount_fen: Mapped[int] = mapped_column(Fen)
    value_date: Mapped[date] = mapped_column(Date)
    counterparty_account: Mapped[str] = mapped_column(String(34))
    counterparty_name: Mapped[str] = mapped_column(String(100))
    business_ref: Mapped[str] = mapped_column(String(60))
    match_kind: Mapped[str | None] = mapped_column(String(20))
    ledger_ref: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(20))
    expected_fen: Mapped[int | None] = mapped_column(Fen)
