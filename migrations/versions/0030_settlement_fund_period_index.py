"""settlements: an index of a fund ledger's period (issue 20.4)

The monthly computation sums a fund ledger's settlements of one period
(`daily.periods.fund_and_paid` over region, insurance type and period). No index led with
those columns (`ix_settlement_period` leads with the institution), so PostgreSQL read every
settlement of the fund ledger through `ix_settlement_batching` and filtered the period out:
with 10M settlements of history the query read 248k buffers instead of 58k and took 4.2 s
instead of 2.8 s per fund ledger (bench/README.md "History"). With this index it reads the
period only, as with one month of data.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-30 15:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_settlement_fund_period", "settlement", ["region_code", "insutype", "period"]
    )


def downgrade() -> None:
    op.drop_index("ix_settlement_fund_period", table_name="settlement")
