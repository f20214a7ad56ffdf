"""medical assistance, payments to persons (issue 22 items 1-2): person payments
(applications, top-ups, care grants) with an application's invoices and amounts per year,
claims (negative clearing results), recoveries, cash repayments; the bank's instruction kind
`person` (payee type person)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 07:09:44.604655
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instruction_kinds(allowed: str) -> None:
    with op.batch_alter_table("payment_instruction", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payment_instruction_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_payment_instruction_kind"), f"kind IN ({allowed})"
        )


def upgrade() -> None:
    _instruction_kinds("'daily', 'monthly', 'annual', 'assistance', 'person'")
    op.create_table(
        "person_claim",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("open_fen", sa.BigInteger(), nullable=False),
        sa.Column("resolution", sa.String(length=12), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notice_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_delivered_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "resolution IN ('next_period', 'cash')", name=op.f("ck_person_claim_resolution")
        ),
        sa.CheckConstraint(
            "amount_fen > 0 AND open_fen >= 0 AND open_fen <= amount_fen",
            name=op.f("ck_person_claim_open"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_claim")),
        sa.UniqueConstraint("reference", name=op.f("uq_person_claim_reference")),
    )
    with op.batch_alter_table("person_claim", schema=None) as batch_op:
        batch_op.create_index("ix_person_claim_person", ["psn_no", "region_code"], unique=False)

    op.create_table(
        "person_payment",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("deducted_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("disease", sa.String(length=100), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_by", sa.String(length=64), nullable=True),
        sa.Column("reject_reason", sa.String(length=300), nullable=True),
        sa.Column("first_instruction_id", sa.String(length=30), nullable=True),
        sa.Column("instruction_id", sa.String(length=30), nullable=True),
        sa.Column("payment_result_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('application', 'top_up', 'grant')", name=op.f("ck_person_payment_kind")
        ),
        sa.CheckConstraint(
            "status IN ('PENDING_APPROVAL', 'NOT_SENT', 'PENDING', 'PAID', 'FAILED', 'RETURNED', 'SETTLED', 'REJECTED')",
            name=op.f("ck_person_payment_status"),
        ),
        sa.CheckConstraint(
            "amount_fen >= 0 AND deducted_fen >= 0 AND paid_fen = amount_fen - deducted_fen",
            name=op.f("ck_person_payment_amounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_payment")),
        sa.UniqueConstraint("reference", name=op.f("uq_person_payment_reference")),
    )
    with op.batch_alter_table("person_payment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_payment_due", ["region_code", "status", "approved_at"], unique=False
        )
        batch_op.create_index(
            "ix_person_payment_person", ["psn_no", "kind", "status"], unique=False
        )

    op.create_table(
        "person_repayment",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_person_repayment_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_repayment")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_person_repayment_receipt_no")),
    )
    op.create_table(
        "application_invoice",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("invoice_no", sa.String(length=40), nullable=False),
        sa.Column("active_invoice_no", sa.String(length=40), nullable=True),
        sa.Column("visit", sa.String(length=10), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("medfee_sumamt_fen", sa.BigInteger(), nullable=False),
        sa.Column("inscp_scp_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifp_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifob_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifmi_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("cvlserv_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("hifes_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("oth_pay_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "visit IN ('inpatient', 'outpatient')", name=op.f("ck_application_invoice_visit")
        ),
        sa.CheckConstraint(
            "inscp_scp_amt_fen <= medfee_sumamt_fen", name=op.f("ck_application_invoice_inscp")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["person_payment.id"],
            name=op.f("fk_application_invoice_payment_id_person_payment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_invoice")),
        sa.UniqueConstraint(
            "active_invoice_no", name=op.f("uq_application_invoice_active_invoice_no")
        ),
    )
    with op.batch_alter_table("application_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_invoice_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "claim_recovery",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True
        ),
        sa.Column(
            "repayment_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True
        ),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(payment_id IS NULL) <> (repayment_id IS NULL)",
            name=op.f("ck_claim_recovery_one_source"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_claim_recovery_amount")),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["person_claim.id"], name=op.f("fk_claim_recovery_claim_id_person_claim")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["person_payment.id"],
            name=op.f("fk_claim_recovery_payment_id_person_payment"),
        ),
        sa.ForeignKeyConstraint(
            ["repayment_id"],
            ["person_repayment.id"],
            name=op.f("fk_claim_recovery_repayment_id_person_repayment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_recovery")),
    )
    with op.batch_alter_table("claim_recovery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_recovery_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_claim_recovery_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_claim_recovery_repayment_id"), ["repayment_id"], unique=False
        )

    op.create_table(
        "person_payment_year",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_person_payment_year_amount")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["person_payment.id"],
            name=op.f("fk_person_payment_year_payment_id_person_payment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_payment_year")),
        sa.UniqueConstraint(
            "payment_id", "year", name=op.f("uq_person_payment_year_payment_id_year")
        ),
    )
    with op.batch_alter_table("person_payment_year", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_payment_year_payment_id"), ["payment_id"], unique=False
        )


def downgrade() -> None:
    persons = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM payment_instruction WHERE kind = 'person'"))
        .scalar_one()
    )
    if persons:
        raise RuntimeError(
            f"{persons} payment instruction(s) to persons exist: 0023 knows no kind 'person'"
        )
    with op.batch_alter_table("person_payment_year", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_payment_year_payment_id"))

    op.drop_table("person_payment_year")
    with op.batch_alter_table("claim_recovery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_recovery_repayment_id"))
        batch_op.drop_index(batch_op.f("ix_claim_recovery_payment_id"))
        batch_op.drop_index(batch_op.f("ix_claim_recovery_claim_id"))

    op.drop_table("claim_recovery")
    with op.batch_alter_table("application_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_invoice_payment_id"))

    op.drop_table("application_invoice")
    op.drop_table("person_repayment")
    with op.batch_alter_table("person_payment", schema=None) as batch_op:
        batch_op.drop_index("ix_person_payment_person")
        batch_op.drop_index("ix_person_payment_due")

    op.drop_table("person_payment")
    with op.batch_alter_table("person_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_person_claim_person")

    op.drop_table("person_claim")
    _instruction_kinds("'daily', 'monthly', 'annual', 'assistance'")
