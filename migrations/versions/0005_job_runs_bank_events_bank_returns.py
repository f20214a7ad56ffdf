"""job runs, bank events, bank returns

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:17:51.027896
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('bank_event',
    sa.Column('event_id', sa.String(length=80), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('instruction_id', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_bank_event'))
    )
    with op.batch_alter_table('bank_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_event_instruction_id'), ['instruction_id'], unique=False)

    op.create_table('bank_return',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('instruction_id', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_by', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_return'))
    )
    with op.batch_alter_table('bank_return', schema=None) as batch_op:
        batch_op.create_index('ix_bank_return_open', ['fixmedins_code', 'insutype', 'taken_by'], unique=False)
        batch_op.create_index('uq_bank_return_instruction_period', ['instruction_id', 'period'], unique=True)

    op.create_table('job_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('job_name', sa.String(length=40), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('runner', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    sa.CheckConstraint("status IN ('RUNNING', 'SUCCEEDED', 'FAILED')", name=op.f('ck_job_run_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('uq_job_run_job_name_business_date', ['job_name', 'business_date'], unique=True)




def downgrade() -> None:

    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('uq_job_run_job_name_business_date')

    op.drop_table('job_run')
    with op.batch_alter_table('bank_return', schema=None) as batch_op:
        batch_op.drop_index('uq_bank_return_instruction_period')
        batch_op.drop_index('ix_bank_return_open')

    op.drop_table('bank_return')
    with op.batch_alter_table('bank_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_event_instruction_id'))

    op.drop_table('bank_event')

