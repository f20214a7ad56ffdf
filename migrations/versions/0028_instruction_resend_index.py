"""bank: an index of the resends of an instruction (issue 20)

A submission of person payments counts the earlier resends of each due payment in one
grouped query on `resend_of`; without an index that reads the whole instruction table (one
instruction per hospital, fund and day: ~146,000 a year at Ningxia's scale). Partial: only
resends have a `resend_of`.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-30 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = "resend_of IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_payment_instruction_resend_of",
        "payment_instruction",
        ["resend_of"],
        postgresql_where=sa.text(PARTIAL),
        sqlite_where=sa.text(PARTIAL),
    )


def downgrade() -> None:
    op.drop_index("ix_payment_instruction_resend_of", table_name="payment_instruction")
