"""medical assistance (issue 21 items 6-7): the stored assistance policy (effective-dated per
region) and the yearly prepayment with its two approvals

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-30 07:05:39.281799
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistance_policy",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column(
            "content", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_assistance_policy_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_policy")),
        sa.UniqueConstraint(
            "region_code",
            "effective_from",
            name=op.f("uq_assistance_policy_region_code_effective_from"),
        ),
    )
    op.create_table(
        "assistance_prepayment",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("actual_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("carried_fen", sa.BigInteger(), nullable=False),
        sa.Column("transfer_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('COMPUTED', 'APPROVED', 'RECEIVED')",
            name=op.f("ck_assistance_prepayment_status"),
        ),
        sa.CheckConstraint(
            "rate_bp >= 0 AND rate_bp <= 10000", name=op.f("ck_assistance_prepayment_rate")
        ),
        sa.CheckConstraint("transfer_fen >= 0", name=op.f("ck_assistance_prepayment_transfer")),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["region.code"],
            name=op.f("fk_assistance_prepayment_region_code_region"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_prepayment")),
        sa.UniqueConstraint(
            "region_code", "year", name=op.f("uq_assistance_prepayment_region_code_year")
        ),
    )
    op.create_table(
        "assistance_prepayment_approval",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "prepayment_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("approver", sa.String(length=64), nullable=False),
        sa.Column("approval_ref", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prepayment_id"],
            ["assistance_prepayment.id"],
            name=op.f("fk_assistance_prepayment_approval_prepayment_id_assistance_prepayment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_prepayment_approval")),
        sa.UniqueConstraint(
            "prepayment_id",
            "approver",
            name=op.f("uq_assistance_prepayment_approval_prepayment_id_approver"),
        ),
    )
    with op.batch_alter_table("assistance_prepayment_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_prepayment_approval_prepayment_id"),
            ["prepayment_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("assistance_prepayment_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_prepayment_approval_prepayment_id"))

    op.drop_table("assistance_prepayment_approval")
    op.drop_table("assistance_prepayment")
    op.drop_table("assistance_policy")
