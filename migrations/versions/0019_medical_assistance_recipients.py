"""medical assistance, part 1 (issue 21 items 1-3): the assistance fund ledger `610`, the
recipients register with its categories and monthly imports, and the one-stop settlement
fields of the 2304 upload

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fund_insutypes(allowed: str) -> None:
    with op.batch_alter_table("fund_ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_fund_ledger_insutype"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_fund_ledger_insutype"), f"insutype IN ({allowed})"
        )


ONE_STOP_COLUMNS = (
    "inscp_scp_amt_fen",
    "hifmi_pay_fen",
    "cvlserv_pay_fen",
    "hifes_pay_fen",
    "maf_pay_fen",
    "oth_pay_fen",
)


def upgrade() -> None:
    _fund_insutypes("'310', '390', '610'")
    # the one-stop fields of the 2304 upload (A3): 0 for the settlements stored before
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        for name in ONE_STOP_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            )
    op.create_table(
        "recipient_import",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column(
            "result", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "source IN ('civil_affairs', 'poverty', 'disabled_persons')",
            name=op.f("ck_recipient_import_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_import")),
        sa.UniqueConstraint("source", "month", name=op.f("uq_recipient_import_source_month")),
    )
    op.create_table(
        "recipient",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("certno", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("bank_account", sa.String(length=34), nullable=True),
        sa.Column("bank_account_name", sa.String(length=100), nullable=True),
        sa.Column("bank_code", sa.String(length=12), nullable=True),
        sa.Column("last_year_income_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("last_year_income_fen >= 0", name=op.f("ck_recipient_income")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_recipient_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient")),
        sa.UniqueConstraint("psn_no", name=op.f("uq_recipient_psn_no")),
    )
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipient_region_code"), ["region_code"], unique=False)

    op.create_table(
        "recipient_category",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "recipient_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "category IN ('tekun', 'orphan', 'dibao', 'low_income', 'poverty_registered', 'expense_poverty')",
            name=op.f("ck_recipient_category_category"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_recipient_category_dates")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["recipient.id"],
            name=op.f("fk_recipient_category_recipient_id_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_category")),
        sa.UniqueConstraint(
            "recipient_id",
            "category",
            "valid_from",
            name=op.f("uq_recipient_category_recipient_id_category_valid_from"),
        ),
    )
    with op.batch_alter_table("recipient_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipient_category_recipient_id"), ["recipient_id"], unique=False
        )


def downgrade() -> None:
    assistance = op.get_bind().execute(
        sa.text("SELECT count(*) FROM fund_ledger WHERE insutype = '610'")
    ).scalar_one()
    if assistance:
        raise RuntimeError(
            f"{assistance} assistance fund ledger(s) (610) exist: 0018 knows only 310 and 390; "
            "remove them (and their accounts) before going below 0019"
        )
    with op.batch_alter_table("recipient_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipient_category_recipient_id"))

    op.drop_table("recipient_category")
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipient_region_code"))

    op.drop_table("recipient")
    op.drop_table("recipient_import")
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        for name in reversed(ONE_STOP_COLUMNS):
            batch_op.drop_column(name)
    _fund_insutypes("'310', '390'")
