"""Tables of the payments to persons and of what persons owe (SPEC-ASSISTANCE A6, A7, A10):
person payments (applications, top-ups, care grants) with an application's invoices and its
amount per year, claims (negative clearing results), recoveries and cash repayments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.assistance.person_status import PaymentKind, PersonPaymentStatus
from app.db import Base, BigId, Fen, UTCDateTime

STATUS_VALUES = ", ".join(f"'{status.value}'" for status in PersonPaymentStatus)
KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in PaymentKind)


class PersonPayment(Base):
    """One payment to a person. `reference` is unique across kinds (the scenario result names a
    row by its reference alone): an application's or grant's own reference, a top-up's the
    clearing's. `paid_fen` = amount − deducted, fixed at approval."""

    __tablename__ = "person_payment"
    __table_args__ = (
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="kind"),
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="status"),
        CheckConstraint(
            "amount_fen >= 0 AND deducted_fen >= 0 AND paid_fen = amount_fen - deducted_fen",
            name="amounts",
        ),
        Index("ix_person_payment_person", "psn_no", "kind", "status"),
        Index("ix_person_payment_due", "region_code", "status", "approved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    psn_no: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(Fen)
    deducted_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(16))
    disease: Mapped[str | None] = mapped_column(String(100))  # a care grant's
    content_hash: Mapped[str] = mapped_column(String(64))  # what was recorded (replays)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(64))
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    first_instruction_id: Mapped[str | None] = mapped_column(String(30))
    instruction_id: Mapped[str | None] = mapped_column(String(30))
    payment_result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def fixmedins_code(self) -> str:
        """The payee slot of the fund's accounts and instructions: `P<psn_no>` (A1)."""
        return f"P{self.psn_no}"


class PersonPaymentYear(Base):
    """An application's amount per year of its invoices (A6: each year's part counts in that
    year's granted; a rejected application's parts leave it)."""

    __tablename__ = "person_payment_year"
    __table_args__ = (
        UniqueConstraint("payment_id", "year"),
        CheckConstraint("amount_fen >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("person_payment.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Fen)


class ApplicationInvoice(Base):
    """An invoice of an application. `active_invoice_no` is the invoice number while the
    application is not rejected and null after: unique, so an invoice is in one live
    application at a time and may be recorded again after a rejection."""

    __tablename__ = "application_invoice"
    __table_args__ = (
        CheckConstraint("visit IN ('inpatient', 'outpatient')", name="visit"),
        CheckConstraint("inscp_scp_amt_fen <= medfee_sumamt_fen", name="inscp"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("person_payment.id"), index=True)
    invoice_no: Mapped[str] = mapped_column(String(40))
    active_invoice_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    visit: Mapped[str] = mapped_column(String(10))
    invoice_date: Mapped[date] = mapped_column(Date)
    medfee_sumamt_fen: Mapped[int] = mapped_column(Fen)
    inscp_scp_amt_fen: Mapped[int] = mapped_column(Fen)
    hifp_pay_fen: Mapped[int] = mapped_column(Fen, default=0)
    hifob_pay_fen: Mapped[int] = mapped_column(Fen, default=0)
    hifmi_pay_fen: Mapped[int] = mapped_column(Fen, default=0)
    cvlserv_pay_fen: Mapped[int] = mapped_column(Fen, default=0)
    hifes_pay_fen: Mapped[int] = mapped_column(Fen, default=0)
    oth_pay_fen: Mapped[int] = mapped_column(Fen, default=0)


class PersonClaim(Base):
    """A negative clearing result: what the person owes (A7 "< 0"), recovered by 下期抵扣
    (`next_period`, once the notice is delivered) or 现金追款 (`cash`)."""

    __tablename__ = "person_claim"
    __table_args__ = (
        CheckConstraint("resolution IN ('next_period', 'cash')", name="resolution"),
        CheckConstraint("amount_fen > 0 AND open_fen >= 0 AND open_fen <= amount_fen", name="open"),
        Index("ix_person_claim_person", "psn_no", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # the clearing's
    psn_no: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Fen)
    open_fen: Mapped[int] = mapped_column(Fen)
    resolution: Mapped[str] = mapped_column(String(12))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notice_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_delivered_by: Mapped[str | None] = mapped_column(String(64))


class PersonRepayment(Base):
    """A cash repayment by a person (现金追款), idempotent on its receipt number."""

    __tablename__ = "person_repayment"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    psn_no: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(Fen)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class ClaimRecovery(Base):
    """What one claim recovered from one person payment (deducted) or one cash repayment."""

    __tablename__ = "claim_recovery"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount"),
        CheckConstraint("(payment_id IS NULL) <> (repayment_id IS NULL)", name="one_source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("person_claim.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("person_payment.id"), index=True)
    repayment_id: Mapped[int | None] = mapped_column(ForeignKey("person_repayment.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    recovered_at: Mapped[datetime] = mapped_column(UTCDateTime)
