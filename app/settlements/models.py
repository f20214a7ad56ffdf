from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, JSONType, UTCDateTime


class SettlementKey(Base):
    """A settlement's identity: its id, the hospital's (fixmedins_code, setl_id) unique, and
    the period that names its partition (issue 20.4). On PostgreSQL `settlement` is
    partitioned by period, and a partitioned table's unique keys must hold the period: this
    narrow table keeps the upload's idempotency key and is what other tables refer to."""

    __tablename__ = "settlement_key"
    __table_args__ = (
        UniqueConstraint("fixmedins_code", "setl_id"),
        # what the settlement row refers to: one row, of the key's period
        UniqueConstraint("id", "period"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    setl_id: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(7))


class Settlement(Base):
    """One discharge settlement (national interface 2304), as uploaded by the hospital.

    On PostgreSQL the table is partitioned by `period` (a partition per month, created ahead
    by the `settlement_partitions` job, and a default one), its primary key (id, period);
    SQLite keeps a plain table (migration 0032). Its key row in `settlement_key` is written
    in the same transaction."""

    __tablename__ = "settlement"
    __table_args__ = (
        # its key, of the same period (with the primary key (id, period) on PostgreSQL: one
        # row per key, in the key's period)
        ForeignKeyConstraint(["id", "period"], ["settlement_key.id", "settlement_key.period"]),
        # the hospital's settlement by its own id (unique through settlement_key)
        Index("ix_settlement_setl", "fixmedins_code", "setl_id"),
        CheckConstraint("insutype IN ('310', '390')", name="insutype"),
        CheckConstraint("fund_amount_fen >= 0", name="fund_amount"),
        # daily batch generation: a fund ledger's settlements up to a date
        Index("ix_settlement_batching", "region_code", "insutype", "setl_date"),
        Index("ix_settlement_period", "fixmedins_code", "insutype", "period"),
        # the monthly computation: a fund ledger's settlements of a period (migration 0030)
        Index("ix_settlement_fund_period", "region_code", "insutype", "period"),
        Index("ix_settlement_day", "fixmedins_code", "insutype", "setl_date"),
        # the members of a daily batch
        Index("ix_settlement_batch", "region_code", "insutype", "batch_date"),
    )

    # from settlement_id_seq (reserve_ids), also part of the foreign key to its key
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement="ignore_fk")
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    setl_id: Mapped[str] = mapped_column(String(30))
    mdtrt_id: Mapped[str | None] = mapped_column(String(30))
    psn_no: Mapped[str] = mapped_column(String(30))
    insutype: Mapped[str] = mapped_column(String(3))
    med_type: Mapped[str] = mapped_column(String(6))
    insuplc_admdvs: Mapped[str] = mapped_column(String(6))
    setl_time: Mapped[datetime] = mapped_column(UTCDateTime)
    setl_date: Mapped[date] = mapped_column(Date)  # Shanghai date of setl_time
    medfee_sumamt_fen: Mapped[int] = mapped_column(Fen)
    hifp_pay_fen: Mapped[int] = mapped_column(Fen)
    hifob_pay_fen: Mapped[int] = mapped_column(Fen)
    fund_amount_fen: Mapped[int] = mapped_column(Fen)  # hifp_pay (+ hifob_pay for 310)
    fund_pay_sumamt_fen: Mapped[int | None] = mapped_column(Fen)
    psn_cash_pay_fen: Mapped[int | None] = mapped_column(Fen)
    acct_pay_fen: Mapped[int | None] = mapped_column(Fen)
    clr_type: Mapped[str | None] = mapped_column(String(6))
    clr_way: Mapped[str | None] = mapped_column(String(6))
    # One-stop settlement fields (SPEC-ASSISTANCE A3), 0 when not sent (and for rows uploaded
    # before they existed). maf_pay is carried by the hospital and paid monthly, never daily.
    inscp_scp_amt_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    hifmi_pay_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    cvlserv_pay_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    hifes_pay_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    maf_pay_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    oth_pay_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    region_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM (SPEC §4)
    # The business date of the daily batch that takes it: its settlement date, or the day
    # after the fund ledger's last generated batch when that is later (fixed at upload,
    # under the fund ledger's batch lock). The batch of D takes dates after the previous
    # batch's up to D.
    batch_date: Mapped[date] = mapped_column(Date)
    ratio_bp: Mapped[int] = mapped_column(Integer)  # daily_ratio in force on setl_date
    daily_amount_fen: Mapped[int] = mapped_column(Fen)  # round(fund_amount × ratio)
    content_hash: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))


class Revocation(Base):
    """A revocation (national 2305) of one settlement: its own record, never an edit."""

    __tablename__ = "revocation"
    __table_args__ = (
        Index("ix_revocation_day", "fixmedins_code", "insutype", "revoked_date"),
        Index("ix_revocation_period", "fixmedins_code", "insutype", "period"),
        # revocations of batched settlements whose reversal the next batch posts
        Index(
            "ix_revocation_unreversed",
            "insutype",
            postgresql_where=text("batched AND reversal_batch_id IS NULL"),
            sqlite_where=text("batched AND reversal_batch_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_key.id"), unique=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    insutype: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_date: Mapped[date] = mapped_column(Date)
    # The period a revocation of a batched settlement counts in (negative), SPEC §4.
    period: Mapped[str] = mapped_column(String(7))
    revoked_by: Mapped[str] = mapped_column(String(64))
    # Whether the settlement's daily batch was generated before the revocation: then the
    # next batch posts the reversal and the revocation counts in its period; else the
    # settlement is in no batch and neither counts anywhere (SPEC §4).
    batched: Mapped[bool] = mapped_column(Boolean)
    reversal_batch_id: Mapped[int | None] = mapped_column(BigId)


class SettlementList(Base):
    """The settlement list (医保基金结算清单, national 4101A) was uploaded for a settlement."""

    __tablename__ = "settlement_list"

    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_key.id"), primary_key=True)
    list_no: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Reconciliation(Base):
    """A hospital's daily totals (national 3201) and the result against the held totals."""

    __tablename__ = "reconciliation"
    __table_args__ = (
        CheckConstraint("status IN ('RECONCILED', 'MISMATCHED')", name="status"),
        Index("ix_reconciliation_day", "fixmedins_code", "insutype", "setl_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    insutype: Mapped[str] = mapped_column(String(3))
    setl_date: Mapped[date] = mapped_column(Date)
    submitted_count: Mapped[int] = mapped_column(Integer)
    submitted_fund_fen: Mapped[int] = mapped_column(Fen)
    held_count: Mapped[int] = mapped_column(Integer)
    held_fund_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(12))
    differences: Mapped[Any] = mapped_column(JSONType)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(64))


class PeriodState(Base):
    """Per institution and insurance type: the last declared period.

    Uploads and revocations read it under a shared lock, declarations change it under an
    exclusive one, so a settlement never lands in a period declared at the same moment.
    """

    __tablename__ = "period_state"

    fixmedins_code: Mapped[str] = mapped_column(String(30), primary_key=True)
    insutype: Mapped[str] = mapped_column(String(3), primary_key=True)
    declared_through: Mapped[str | None] = mapped_column(String(7))


class BatchState(Base):
    """Per fund ledger: the business date of the last generated daily batch.

    Uploads and revocations read it under a shared lock (to fix a settlement's batch date and
    whether a revocation comes after batching); batch generation moves it under an exclusive
    lock. So no settlement slips past the batch that should take it.
    """

    __tablename__ = "batch_state"

    fund_ledger_id: Mapped[int] = mapped_column(
        ForeignKey("fund_ledger.id"), primary_key=True, autoincrement=False
    )
    last_generated_date: Mapped[date | None] = mapped_column(Date)
