"""annual rules, assessments, clearings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:33:44.749950
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('annual_rule',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('assessment_bands', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('credit_bands', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_annual_rule'))
    )
    op.create_table('annual_clearing',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('approved_fund_fen', sa.BigInteger(), nullable=False),
    sa.Column('clearing_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('settled_fen', sa.BigInteger(), nullable=False),
    sa.Column('deposit_held_fen', sa.BigInteger(), nullable=False),
    sa.Column('return_ratio_bp', sa.Integer(), nullable=False),
    sa.Column('forfeited_fen', sa.BigInteger(), nullable=False),
    sa.Column('gross_fen', sa.BigInteger(), nullable=False),
    sa.Column('offset_fen', sa.BigInteger(), nullable=False),
    sa.Column('actual_fen', sa.BigInteger(), nullable=False),
    sa.Column('base', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_by', sa.String(length=64), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('confirmation_reference', sa.String(length=80), nullable=True),
    sa.Column('disputed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispute_reason', sa.String(length=300), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('instruction_id', sa.String(length=30), nullable=True),
    sa.Column('payment_result_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('COMPUTED', 'DISPUTED', 'CONFIRMED', 'APPROVED', 'PAID', 'FAILED', 'RETURNED', 'SETTLED', 'RECEIVABLE')", name=op.f('ck_annual_clearing_status')),
    sa.CheckConstraint('actual_fen = gross_fen - offset_fen', name=op.f('ck_annual_clearing_actual')),
    sa.CheckConstraint('gross_fen = clearing_amount_fen - settled_fen - forfeited_fen', name=op.f('ck_annual_clearing_gross')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_annual_clearing_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_clearing')),
    sa.UniqueConstraint('year', 'fixmedins_code', 'insutype', name=op.f('uq_annual_clearing_year_fixmedins_code_insutype'))
    )
    with op.batch_alter_table('annual_clearing', schema=None) as batch_op:
        batch_op.create_index('ix_annual_clearing_status', ['status'], unique=False)

    op.create_table('assessment',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('assessment_score', sa.Integer(), nullable=False),
    sa.Column('credit_score', sa.Integer(), nullable=False),
    sa.Column('clearing_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_assessment_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment')),
    sa.UniqueConstraint('year', 'fixmedins_code', 'insutype', name=op.f('uq_assessment_year_fixmedins_code_insutype'))
    )



def downgrade() -> None:

    op.drop_table('assessment')
    with op.batch_alter_table('annual_clearing', schema=None) as batch_op:
        batch_op.drop_index('ix_annual_clearing_status')

    op.drop_table('annual_clearing')
    op.drop_table('annual_rule')

