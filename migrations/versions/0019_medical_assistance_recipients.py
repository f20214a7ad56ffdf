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


def upgrade() -> None:
    _fund_insutypes("'310', '390', '610'")


def downgrade() -> None:
    _fund_insutypes("'310', '390'")
