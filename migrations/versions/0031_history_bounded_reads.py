"""payment instructions by fund and result time; open alerts; audit results by status (20.4)

Three reads that ran every day or on every request read the whole history:
- the bank statement job's "paid without a statement entry" check
  (`bankrecon.reconciliation._paid_without_entry`: a fund ledger's instructions paid within
  a statement's days) had only `(status, sent_at)` to go by, so it read every paid
  instruction of every fund ledger ever — 72,000 rows for 40 at five months of a
  Ningxia-scale year (22 ms per account and day), ~1.7M after five years;
- the open alerts (`alerts.list_alerts(open_only=True)`: the console's home pages and
  `GET /api/v1/alerts`) walked the primary key through every resolved alert;
- the 23:59 finalisation of unappealed audit results (`status = 'INITIAL' AND
  appeal_deadline <= today`) and the operator's count of appeals waiting read every audit
  result ever (no index led with the status).

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-30 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_payment_instruction_fund_result",
        "payment_instruction",
        ["region_code", "insutype", "result_at"],
    )
    op.create_index("ix_alert_open", "alert", ["id"], postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_audit_item_status_deadline", "audit_item", ["status", "appeal_deadline"])


def downgrade() -> None:
    op.drop_index("ix_audit_item_status_deadline", table_name="audit_item")
    op.drop_index("ix_alert_open", table_name="alert")
    op.drop_index("ix_payment_instruction_fund_result", table_name="payment_instruction")
