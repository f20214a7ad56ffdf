"""payee changes under two people, the funds check mode of a policy, funding requests

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payee_change",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("fixmedins_code", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("old_bank_account", sa.String(length=34), nullable=False),
        sa.Column("old_bank_account_name", sa.String(length=100), nullable=False),
        sa.Column("old_bank_code", sa.String(length=12), nullable=False),
        sa.Column("bank_account", sa.String(length=34), nullable=False),
        sa.Column("bank_account_name", sa.String(length=100), nullable=False),
        sa.Column("bank_code", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING', 'APPROVED', 'REJECTED')", name=op.f("ck_payee_change_status")
        ),
        sa.ForeignKeyConstraint(
            ["fixmedins_code"],
            ["institution.code"],
            name=op.f("fk_payee_change_fixmedins_code_institution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payee_change")),
    )
    op.create_index(
        op.f("ix_payee_change_fixmedins_code"), "payee_change", ["fixmedins_code"], unique=False
    )
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("funds_check", sa.String(length=5), server_default="warn", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_policy_version_funds_check"), "funds_check IN ('warn', 'block')"
        )
    op.create_table(
        "funding_request",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("fund_ledger_id", BIG_ID, nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("insutype", sa.String(length=3), nullable=False),
        sa.Column("request_date", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=5), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("available_fen", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_fen", sa.BigInteger(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("mode IN ('warn', 'block')", name=op.f("ck_funding_request_mode")),
        sa.CheckConstraint("shortfall_fen > 0", name=op.f("ck_funding_request_shortfall_positive")),
        sa.CheckConstraint(
            "status IN ('OPEN', 'COVERED')", name=op.f("ck_funding_request_status")
        ),
        sa.ForeignKeyConstraint(
            ["fund_ledger_id"],
            ["fund_ledger.id"],
            name=op.f("fk_funding_request_fund_ledger_id_fund_ledger"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_request")),
        sa.UniqueConstraint(
            "fund_ledger_id",
            "request_date",
            name=op.f("uq_funding_request_fund_ledger_id_request_date"),
        ),
    )
    op.create_index(
        op.f("ix_funding_request_fund_ledger_id"),
        "funding_request",
        ["fund_ledger_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_funding_request_fund_ledger_id"), table_name="funding_request")
    op.drop_table("funding_request")
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_policy_version_funds_check"), type_="check")
        batch_op.drop_column("funds_check")
    op.drop_index(op.f("ix_payee_change_fixmedins_code"), table_name="payee_change")
    op.drop_table("payee_change")
