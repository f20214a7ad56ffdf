"""bank statements and their reconciliation (银行对账): each version of the bank's end-of-day
statement of an expenditure account, its entries with what they matched, and the balance
reconciliation stored with it; journal entries found by their document (business_ref)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 01:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_business_ref', ['business_ref'], unique=False)
    op.create_table('bank_statement',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('statement_date', sa.Date(), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('opening_fen', sa.BigInteger(), nullable=False),
    sa.Column('closing_fen', sa.BigInteger(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('ledger_balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('bank_only_fen', sa.BigInteger(), nullable=False),
    sa.Column('ledger_only_fen', sa.BigInteger(), nullable=False),
    sa.Column('unexplained_fen', sa.BigInteger(), nullable=False),
    sa.Column('reconciliation', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.CheckConstraint("source IN ('fetch', 'upload')", name=op.f('ck_bank_statement_source')),
    sa.CheckConstraint("status IN ('RECONCILED', 'DIFFERENCES')", name=op.f('ck_bank_statement_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statement')),
    sa.UniqueConstraint('account', 'statement_date', 'version', name=op.f('uq_bank_statement_account_statement_date_version'))
    )
    with op.batch_alter_table('bank_statement', schema=None) as batch_op:
        batch_op.create_index('ix_bank_statement_fund', ['region_code', 'insutype', 'statement_date'], unique=False)

    op.create_table('bank_statement_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('statement_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('bank_serial', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=1), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('counterparty_account', sa.String(length=34), nullable=False),
    sa.Column('counterparty_name', sa.String(length=100), nullable=False),
    sa.Column('business_ref', sa.String(length=60), nullable=False),
    sa.Column('match_kind', sa.String(length=20), nullable=True),
    sa.Column('ledger_ref', sa.String(length=120), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('expected_fen', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("direction IN ('D', 'C')", name=op.f('ck_bank_statement_entry_direction')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_bank_statement_entry_amount_positive')),
    sa.ForeignKeyConstraint(['statement_id'], ['bank_statement.id'], name=op.f('fk_bank_statement_entry_statement_id_bank_statement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statement_entry')),
    sa.UniqueConstraint('statement_id', 'line_no', name=op.f('uq_bank_statement_entry_statement_id_line_no'))
    )
    with op.batch_alter_table('bank_statement_entry', schema=None) as batch_op:
        batch_op.create_index('ix_bank_statement_entry_business_ref', ['business_ref'], unique=False)
        batch_op.create_index('ix_bank_statement_entry_ref', ['ledger_ref', 'direction'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statement_entry_statement_id'), ['statement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bank_statement_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_statement_entry_statement_id'))
        batch_op.drop_index('ix_bank_statement_entry_ref')
        batch_op.drop_index('ix_bank_statement_entry_business_ref')

    op.drop_table('bank_statement_entry')
    with op.batch_alter_table('bank_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_statement_fund')

    op.drop_table('bank_statement')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_business_ref')
