"""console, fund pages: indexes of the approval queue, the payment monitor and histories

The queue reads waiting statements and clearings by deadline group in id order, and a
batch's lines set aside (held back or withdrawn); the monitor a day's instructions; a
document page its history in the trail.

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-29 22:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_monthly_statement_queue',
        'monthly_statement',
        ['status', 'region_code', 'insutype', 'period', 'id'],
        unique=False,
        postgresql_include=['net_fen'],
    )
    op.create_index(
        'ix_annual_clearing_queue',
        'annual_clearing',
        ['status', 'year', 'id'],
        unique=False,
        postgresql_include=['actual_fen'],
    )
    op.create_index(
        'ix_payment_instruction_requested',
        'payment_instruction',
        ['requested_date', 'status'],
        unique=False,
    )
    op.create_index('ix_audit_event_entity', 'audit_event', ['entity', 'entity_key'], unique=False)
    op.create_index(
        'ix_daily_line_set_aside',
        'daily_line',
        ['batch_id'],
        unique=False,
        postgresql_where=sa.text('held IS true OR withdrawn_at IS NOT NULL'),
        sqlite_where=sa.text('held IS 1 OR withdrawn_at IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_daily_line_set_aside', table_name='daily_line')
    op.drop_index('ix_audit_event_entity', table_name='audit_event')
    op.drop_index('ix_payment_instruction_requested', table_name='payment_instruction')
    op.drop_index('ix_annual_clearing_queue', table_name='annual_clearing')
    op.drop_index('ix_monthly_statement_queue', table_name='monthly_statement')
