"""medical assistance, issue 22 item 3: the deduction data of individual clearing (扣减数据),
and an index of settlements by person for the person-year

Revision ID: 0022
Revises: 0019
Create Date: 2026-11-30 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assistance_deduction",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=True),
        sa.Column("setl_id", sa.String(length=30), nullable=True),
        sa.Column("invoice_no", sa.String(length=40), nullable=True),
        sa.Column("item_key", sa.String(length=80), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "type IN ('critical_illness', 'mutual_aid', 'other', 'burden_relief')",
            name=op.f("ck_assistance_deduction_type"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_assistance_deduction_amount")),
        sa.CheckConstraint(
            "(type = 'burden_relief' AND item_key IS NULL) "
            "OR (type <> 'burden_relief' AND item_key IS NOT NULL)",
            name=op.f("ck_assistance_deduction_names_item_or_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_deduction")),
        sa.UniqueConstraint("reference", name=op.f("uq_assistance_deduction_reference")),
    )
    with op.batch_alter_table("assistance_deduction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assistance_deduction_person_year", ["psn_no", "year", "id"], unique=False
        )
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.create_index("ix_settlement_person", ["psn_no", "setl_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_index("ix_settlement_person")
    with op.batch_alter_table("assistance_deduction", schema=None) as batch_op:
        batch_op.drop_index("ix_assistance_deduction_person_year")
    op.drop_table("assistance_deduction")
