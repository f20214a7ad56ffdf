"""Tables of the hospitals' monthly assistance statements (SPEC-ASSISTANCE A5, A10
"Statements"; issue 21.5): the documents a hospital records per settlement, the statement (a
payable document of the fund ledger `610`), its lines, and the record of each (hospital,
period) computed, a statement or not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, UTCDateTime
from app.payables.models import PayableColumns, status_check

# The three documents of a settlement (材料), in the order the office lists them.
DOCUMENT_TYPES = ("diagnosis", "assistance_sheet", "advance_form")
DOCUMENT_NAMES = {
    "diagnosis": "疾病诊断证明书",
    "assistance_sheet": "救助结算单",
    "advance_form": "垫付统计表",
}
DOCUMENT_VALUES = ", ".join(f"'{name}'" for name in DOCUMENT_TYPES)
RECORDED, REJECTED = "RECORDED", "REJECTED"


class AssistanceDocument(Base):
    """One document of a settlement: RECORDED by the hospital, or REJECTED by an operator
    with a reason (recording it again replaces the rejected one)."""

    __tablename__ = "assistance_document"
    __table_args__ = (
        UniqueConstraint("settlement_id", "document"),
        CheckConstraint(f"document IN ({DOCUMENT_VALUES})", name="document"),
        CheckConstraint("status IN ('RECORDED', 'REJECTED')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_key.id"))
    document: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(64))
    reject_reason: Mapped[str | None] = mapped_column(String(300))


class AssistanceStatement(Base, PayableColumns):
    """The assistance statement (医疗救助月结算) of one hospital and month, paid from the
    region's `610` fund ledger: lines − negative lines − the offset of its receivable."""

    __tablename__ = "assistance_statement"
    __table_args__ = (
        UniqueConstraint("fixmedins_code", "period"),
        status_check(),
        CheckConstraint("insutype = '610'", name="insutype"),
        CheckConstraint("amount_fen = lines_fen - negative_fen - offset_fen", name="amount"),
        CheckConstraint("offset_fen >= 0", name="offset_non_negative"),
        Index("ix_assistance_statement_queue", "status", "region_code", "period", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    lines_fen: Mapped[int] = mapped_column(Fen)
    negative_fen: Mapped[int] = mapped_column(Fen)
    offset_fen: Mapped[int] = mapped_column(Fen)
    amount_fen: Mapped[int] = mapped_column(Fen)
    settlements: Mapped[int] = mapped_column(Integer)
    carried: Mapped[int] = mapped_column(Integer)


class AssistanceStatementLine(Base):
    """A settlement's `maf_pay` in a statement: a line (paid), or a negative line (taken
    back after its revocation). A settlement is each at most once."""

    __tablename__ = "assistance_statement_line"
    __table_args__ = (
        UniqueConstraint("settlement_id", "negative"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("assistance_statement.id"), index=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_key.id"))
    amount_fen: Mapped[int] = mapped_column(Fen)
    negative: Mapped[bool] = mapped_column(Boolean)


class AssistanceRun(Base):
    """A (hospital, period) whose assistance statement was computed, with the statement when
    there was one (a statement exists only with a line): never computed twice."""

    __tablename__ = "assistance_run"
    __table_args__ = (UniqueConstraint("fixmedins_code", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(7))
    statement_id: Mapped[int | None] = mapped_column(BigId)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
