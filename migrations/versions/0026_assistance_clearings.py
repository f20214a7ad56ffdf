"""medical assistance, individual clearing (issue 22 item 4): clearing results with their
content-hashed snapshot, annual clearings triggered, the daily clearing suggestions

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "assistance_clearing",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("granted_fen", sa.BigInteger(), nullable=False),
        sa.Column("difference_fen", sa.BigInteger(), nullable=False),
        sa.Column("resolution", sa.String(length=12), nullable=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("snapshot_hash", sa.String(length=64), nullable=False),
        sa.Column("taken_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "mode IN ('realtime', 'annual')", name=op.f("ck_assistance_clearing_mode")
        ),
        sa.CheckConstraint(
            "(difference_fen >= 0 AND resolution IS NULL) OR "
            "(difference_fen < 0 AND resolution IN ('next_period', 'cash'))",
            name=op.f("ck_assistance_clearing_resolution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_clearing")),
        sa.UniqueConstraint("reference", name=op.f("uq_assistance_clearing_reference")),
    )
    with op.batch_alter_table("assistance_clearing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assistance_clearing_person_year", ["psn_no", "year", "id"], unique=False
        )
    op.create_table(
        "assistance_annual_clearing",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_annual_clearing")),
        sa.UniqueConstraint(
            "region_code", "year", name=op.f("uq_assistance_annual_clearing_region_code_year")
        ),
    )
    op.create_table(
        "assistance_clearing_suggestion",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("difference_fen", sa.BigInteger(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_clearing_suggestion")),
        sa.UniqueConstraint(
            "psn_no", "year", name=op.f("uq_assistance_clearing_suggestion_psn_no_year")
        ),
    )
    with op.batch_alter_table("assistance_clearing_suggestion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assistance_clearing_suggestion_region", ["region_code", "psn_no"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assistance_clearing_suggestion", schema=None) as batch_op:
        batch_op.drop_index("ix_assistance_clearing_suggestion_region")
    op.drop_table("assistance_clearing_suggestion")
    op.drop_table("assistance_annual_clearing")
    with op.batch_alter_table("assistance_clearing", schema=None) as batch_op:
        batch_op.drop_index("ix_assistance_clearing_person_year")
    op.drop_table("assistance_clearing")
