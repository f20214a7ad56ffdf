from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, Fen, JSONType, UTCDateTime


class Region(Base):
    """A pooling region (统筹区), e.g. 640100 银川市, with its division prefixes."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Insured persons whose insuplc_admdvs starts with one of these belong here.
    division_prefixes: Mapped[Any] = mapped_column(JSONType)


# Insurance types of the basic funds (paid daily and monthly to hospitals) and of the
# medical-assistance fund (SPEC-ASSISTANCE A1: separate books, nothing moves between them).
BASIC_INSUTYPES = ("310", "390")
ASSISTANCE_INSUTYPE = "610"
FUND_INSUTYPES = (*BASIC_INSUTYPES, ASSISTANCE_INSUTYPE)


class FundLedger(Base):
    """One fund per pooling region × insurance type (310 employee, 390 resident, 610 medical
    assistance; the assistance fund is switched on by its own policy versions)."""

    __tablename__ = "fund_ledger"
    __table_args__ = (
        UniqueConstraint("region_code", "insutype"),
        CheckConstraint("insutype IN ('310', '390', '610')", name="insutype"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    insutype: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(100))
    expenditure_account: Mapped[str] = mapped_column(String(34))
    expenditure_account_name: Mapped[str] = mapped_column(String(100))
    requires_settlement_list: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def key(self) -> str:
        return f"{self.region_code}:{self.insutype}"


class PolicyVersion(Base):
    """Policy parameters of a fund ledger in force from `effective_from` until the next one.

    A date before the first version, or covered by a version with `active` false, is a date
    on which the fund ledger is switched off.
    """

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("fund_ledger_id", "effective_from"),
        CheckConstraint("daily_ratio_bp BETWEEN 0 AND 10000", name="daily_ratio"),
        CheckConstraint("deposit_rate_bp BETWEEN 0 AND 10000", name="deposit_rate"),
        CheckConstraint("declaration_day BETWEEN 1 AND 28", name="declaration_day"),
        CheckConstraint("appeal_window_days BETWEEN 1 AND 60", name="appeal_window"),
        CheckConstraint("funds_check IN ('warn', 'block')", name="funds_check"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fund_ledger_id: Mapped[int] = mapped_column(ForeignKey("fund_ledger.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_ratio_bp: Mapped[int] = mapped_column(Integer)
    deposit_rate_bp: Mapped[int] = mapped_column(Integer)
    submission_time: Mapped[str] = mapped_column(String(5))  # "14:30", Shanghai time
    cutoff_time: Mapped[str] = mapped_column(String(5))  # "15:00"
    declaration_day: Mapped[int] = mapped_column(Integer)  # of month M+1, rolled on or after
    appeal_window_days: Mapped[int] = mapped_column(Integer)  # working days
    approval_threshold_fen: Mapped[int | None] = mapped_column(Fen)  # None: one approval
    # Funds check before each submission (docs/rules.md): "warn" alerts and sends, "block"
    # holds the fund ledger's submission until an appropriation covers it.
    funds_check: Mapped[str] = mapped_column(String(5), default="warn", server_default="warn")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Institution(Base):
    """A designated medical institution (定点医疗机构)."""

    __tablename__ = "institution"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="level"),)

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    bank_account: Mapped[str] = mapped_column(String(34))
    bank_account_name: Mapped[str] = mapped_column(String(100))
    bank_code: Mapped[str] = mapped_column(String(12))
    # Enabled medical types: a settlement's med_type must start with one of these.
    med_type_prefixes: Mapped[Any] = mapped_column(JSONType)


class Enrollment(Base):
    """An institution enrolled for an insurance type from `start_date` (to `end_date`)."""

    __tablename__ = "enrollment"
    __table_args__ = (
        UniqueConstraint("fixmedins_code", "insutype", "start_date"),
        CheckConstraint("insutype IN ('310', '390')", name="insutype"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"), index=True)
    insutype: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


PAYEE_CHANGE_STATUSES = ("PENDING", "APPROVED", "REJECTED")


class PayeeChange(Base):
    """A change of an institution's payee (收款账户变更: bank account, account name, bank
    code) under two people: requested by an operator or admin, approved or rejected by an
    accountant or admin who is not the requester. The approved ones are the payee's versions:
    each keeps the account it replaced, who asked, who approved, and when."""

    __tablename__ = "payee_change"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'APPROVED', 'REJECTED')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institution.code"), index=True)
    status: Mapped[str] = mapped_column(String(8))
    old_bank_account: Mapped[str] = mapped_column(String(34))
    old_bank_account_name: Mapped[str] = mapped_column(String(100))
    old_bank_code: Mapped[str] = mapped_column(String(12))
    bank_account: Mapped[str] = mapped_column(String(34))
    bank_account_name: Mapped[str] = mapped_column(String(100))
    bank_code: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(200))
