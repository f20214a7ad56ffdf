"""ledger: less database work per journal entry (issue 20.3)

- `ix_journal_entry_recorded_at` dropped: every query on `recorded_at` names its fund
  (snapshots, as-of on the recorded basis) and `ix_journal_entry_fund_recorded` serves it.
- `ix_journal_entry_kind` made partial, `WHERE kind <> 'daily_accrual'`: the daily batch's
  entries (10,000 a fund a day, most of the ledger) are not in it. Its users look for the rare
  kinds (the three-flow check's `instruction_sent` / `instruction_success`; a search by one
  of them), which it still serves; a search for `daily_accrual` reads the entries in id order
  as it would anyway (they are most rows).
- Data: the accounts an enrolment opens (`expense`, `payable` of the institution in that
  fund; the 610 expense is region-level) are created for the enrolments that have not ended,
  `ON CONFLICT DO NOTHING` (idempotent; one INSERT … SELECT). New enrolments open them
  (`ledger.open_enrolment_accounts` via `app.wiring`); batches still create missing ones. The
  downgrade leaves them (accounts with no postings, indistinguishable from first use).

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND_PARTIAL = "kind <> 'daily_accrual'"

ENROLMENT_ACCOUNTS = """
INSERT INTO ledger_account (code, name, region_code, insutype, fixmedins_code, normal_side,
                            balance_fen)
SELECT a.name || ':' || i.region_code || ':' || e.insutype || ':' || i.code, a.name,
       i.region_code, e.insutype, i.code, a.side, 0
  FROM enrollment e
  JOIN institution i ON i.code = e.fixmedins_code
 CROSS JOIN (SELECT 'expense' AS name, 'D' AS side UNION ALL SELECT 'payable', 'C') a
 WHERE (e.end_date IS NULL OR e.end_date >= {today})
   AND NOT (a.name = 'expense' AND e.insutype = '610')
ON CONFLICT (code) DO NOTHING
"""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_journal_entry_recorded_at", table_name="journal_entry")
    op.drop_index("ix_journal_entry_kind", table_name="journal_entry")
    op.create_index(
        "ix_journal_entry_kind",
        "journal_entry",
        ["kind"],
        postgresql_where=sa.text(KIND_PARTIAL),
        sqlite_where=sa.text(KIND_PARTIAL),
    )
    op.execute(ENROLMENT_ACCOUNTS.format(today="CURRENT_DATE" if postgresql else "date('now')"))


def downgrade() -> None:
    op.drop_index("ix_journal_entry_kind", table_name="journal_entry")
    op.create_index("ix_journal_entry_kind", "journal_entry", ["kind"])
    op.create_index("ix_journal_entry_recorded_at", "journal_entry", ["recorded_at"])
