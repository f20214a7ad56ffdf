"""monthly statements, reopenings, audit steps, advances, repayments, payment summaries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:28:22.551382
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('daily_payment_summary',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('pay_date', sa.Date(), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('compiled_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_payment_summary')),
    sa.UniqueConstraint('month', 'region_code', 'insutype', 'fixmedins_code', 'pay_date', name=op.f('uq_daily_payment_summary_month_region_code_insutype_fixmedins_code_pay_date'))
    )
    op.create_table('monthly_statement',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deposit_rate_bp', sa.Integer(), nullable=False),
    sa.Column('fund_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('deposit_fen', sa.BigInteger(), nullable=False),
    sa.Column('ratio_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('audit_fen', sa.BigInteger(), nullable=False),
    sa.Column('daily_paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('procurement_fen', sa.BigInteger(), nullable=False),
    sa.Column('returned_fen', sa.BigInteger(), nullable=False),
    sa.Column('offset_fen', sa.BigInteger(), nullable=False),
    sa.Column('net_fen', sa.BigInteger(), nullable=False),
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
    sa.CheckConstraint("status IN ('COMPUTED', 'DISPUTED', 'CONFIRMED', 'APPROVED', 'PAID', 'FAILED', 'RETURNED', 'SETTLED', 'RECEIVABLE')", name=op.f('ck_monthly_statement_status')),
    sa.CheckConstraint('net_fen = ratio_amount_fen - audit_fen - daily_paid_fen - procurement_fen + returned_fen - offset_fen', name=op.f('ck_monthly_statement_components_sum_to_net')),
    sa.CheckConstraint('offset_fen >= 0', name=op.f('ck_monthly_statement_offset_non_negative')),
    sa.CheckConstraint('ratio_amount_fen = fund_pay_fen - deposit_fen', name=op.f('ck_monthly_statement_ratio_amount')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_monthly_statement_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_statement')),
    sa.UniqueConstraint('fixmedins_code', 'insutype', 'period', name=op.f('uq_monthly_statement_fixmedins_code_insutype_period'))
    )
    with op.batch_alter_table('monthly_statement', schema=None) as batch_op:
        batch_op.create_index('ix_monthly_statement_status', ['status'], unique=False)

    op.create_table('period_reopening',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reopened_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_period_reopening_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_reopening')),
    sa.UniqueConstraint('fixmedins_code', 'insutype', 'period', name=op.f('uq_period_reopening_fixmedins_code_insutype_period'))
    )
    op.create_table('procurement_advance',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=64), nullable=False),
    sa.Column('taken_statement_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_procurement_advance_amount_positive')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_procurement_advance_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procurement_advance')),
    sa.UniqueConstraint('reference', name=op.f('uq_procurement_advance_reference'))
    )
    with op.batch_alter_table('procurement_advance', schema=None) as batch_op:
        batch_op.create_index('ix_procurement_advance_open', ['fixmedins_code', 'insutype', 'taken_statement_id'], unique=False)

    op.create_table('repayment',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('receipt_no', sa.String(length=60), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_repayment_amount_positive')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_repayment_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment')),
    sa.UniqueConstraint('region_code', 'insutype', 'receipt_no', name=op.f('uq_repayment_region_code_insutype_receipt_no'))
    )
    op.create_table('audit_step',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('audit_item_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['audit_item_id'], ['audit_item.id'], name=op.f('fk_audit_step_audit_item_id_audit_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_step'))
    )
    with op.batch_alter_table('audit_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_step_audit_item_id'), ['audit_item_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('audit_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_step_audit_item_id'))

    op.drop_table('audit_step')
    op.drop_table('repayment')
    with op.batch_alter_table('procurement_advance', schema=None) as batch_op:
        batch_op.drop_index('ix_procurement_advance_open')

    op.drop_table('procurement_advance')
    op.drop_table('period_reopening')
    with op.batch_alter_table('monthly_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_monthly_statement_status')

    op.drop_table('monthly_statement')
    op.drop_table('daily_payment_summary')

