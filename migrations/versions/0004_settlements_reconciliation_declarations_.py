"""settlements, reconciliation, declarations, audit items, daily batches, payment instructions, appropriations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:06:52.412922
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('appropriation',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_appropriation_amount_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appropriation')),
    sa.UniqueConstraint('region_code', 'insutype', 'reference', name=op.f('uq_appropriation_region_code_insutype_reference'))
    )
    op.create_table('payment_instruction',
    sa.Column('instruction_id', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('payer_account', sa.String(length=34), nullable=False),
    sa.Column('payer_name', sa.String(length=100), nullable=False),
    sa.Column('payee_account', sa.String(length=34), nullable=False),
    sa.Column('payee_name', sa.String(length=100), nullable=False),
    sa.Column('payee_bank_code', sa.String(length=12), nullable=False),
    sa.Column('purpose', sa.String(length=100), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('resend_of', sa.String(length=30), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('receipt_no', sa.String(length=40), nullable=True),
    sa.Column('receipt', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    sa.Column('failure_code', sa.String(length=40), nullable=True),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('daily', 'monthly', 'annual')", name=op.f('ck_payment_instruction_kind')),
    sa.CheckConstraint("status IN ('QUEUED', 'ACCEPTED', 'SUCCESS', 'FAILED', 'RETURNED', 'UNKNOWN')", name=op.f('ck_payment_instruction_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payment_instruction_amount_positive')),
    sa.PrimaryKeyConstraint('instruction_id', name=op.f('pk_payment_instruction'))
    )
    with op.batch_alter_table('payment_instruction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_instruction_fixmedins_code'), ['fixmedins_code'], unique=False)
        batch_op.create_index('ix_payment_instruction_open', ['status', 'sent_at'], unique=False)
        batch_op.create_index('ix_payment_instruction_source', ['source_kind', 'source_id'], unique=False)

    op.create_table('period_state',
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('declared_through', sa.String(length=7), nullable=True),
    sa.PrimaryKeyConstraint('fixmedins_code', 'insutype', name=op.f('pk_period_state'))
    )
    op.create_table('reconciliation',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('setl_date', sa.Date(), nullable=False),
    sa.Column('submitted_count', sa.Integer(), nullable=False),
    sa.Column('submitted_fund_fen', sa.BigInteger(), nullable=False),
    sa.Column('held_count', sa.Integer(), nullable=False),
    sa.Column('held_fund_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('differences', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("status IN ('RECONCILED', 'MISMATCHED')", name=op.f('ck_reconciliation_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation'))
    )
    with op.batch_alter_table('reconciliation', schema=None) as batch_op:
        batch_op.create_index('ix_reconciliation_day', ['fixmedins_code', 'insutype', 'setl_date', 'id'], unique=False)

    op.create_table('batch_state',
    sa.Column('fund_ledger_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('last_generated_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['fund_ledger_id'], ['fund_ledger.id'], name=op.f('fk_batch_state_fund_ledger_id_fund_ledger')),
    sa.PrimaryKeyConstraint('fund_ledger_id', name=op.f('pk_batch_state'))
    )
    op.create_table('daily_batch',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fund_ledger_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('first_batch_date', sa.Date(), nullable=True),
    sa.Column('pay_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pushed_by', sa.String(length=64), nullable=False),
    sa.Column('push_round', sa.Integer(), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('rejected_reason', sa.String(length=300), nullable=True),
    sa.Column('rejected_by', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('settlement_count', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_total_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("status IN ('PUSHED', 'APPROVED', 'REJECTED', 'SUBMITTED', 'EMPTY')", name=op.f('ck_daily_batch_status')),
    sa.ForeignKeyConstraint(['fund_ledger_id'], ['fund_ledger.id'], name=op.f('fk_daily_batch_fund_ledger_id_fund_ledger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_batch')),
    sa.UniqueConstraint('fund_ledger_id', 'business_date', name=op.f('uq_daily_batch_fund_ledger_id_business_date'))
    )
    with op.batch_alter_table('daily_batch', schema=None) as batch_op:
        batch_op.create_index('ix_daily_batch_due', ['status', 'pay_date'], unique=False)

    op.create_table('declaration',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('declared_by', sa.String(length=64), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_declaration_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration')),
    sa.UniqueConstraint('fixmedins_code', 'insutype', 'period', name=op.f('uq_declaration_fixmedins_code_insutype_period'))
    )
    op.create_table('settlement',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('setl_id', sa.String(length=30), nullable=False),
    sa.Column('mdtrt_id', sa.String(length=30), nullable=True),
    sa.Column('psn_no', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('med_type', sa.String(length=6), nullable=False),
    sa.Column('insuplc_admdvs', sa.String(length=6), nullable=False),
    sa.Column('setl_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('setl_date', sa.Date(), nullable=False),
    sa.Column('medfee_sumamt_fen', sa.BigInteger(), nullable=False),
    sa.Column('hifp_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('hifob_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('fund_pay_sumamt_fen', sa.BigInteger(), nullable=True),
    sa.Column('psn_cash_pay_fen', sa.BigInteger(), nullable=True),
    sa.Column('acct_pay_fen', sa.BigInteger(), nullable=True),
    sa.Column('clr_type', sa.String(length=6), nullable=True),
    sa.Column('clr_way', sa.String(length=6), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('batch_date', sa.Date(), nullable=False),
    sa.Column('ratio_bp', sa.Integer(), nullable=False),
    sa.Column('daily_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("insutype IN ('310', '390')", name=op.f('ck_settlement_insutype')),
    sa.CheckConstraint('fund_amount_fen >= 0', name=op.f('ck_settlement_fund_amount')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_settlement_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement')),
    sa.UniqueConstraint('fixmedins_code', 'setl_id', name=op.f('uq_settlement_fixmedins_code_setl_id'))
    )
    with op.batch_alter_table('settlement', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_batch', ['region_code', 'insutype', 'batch_date'], unique=False)
        batch_op.create_index('ix_settlement_batching', ['region_code', 'insutype', 'setl_date'], unique=False)
        batch_op.create_index('ix_settlement_day', ['fixmedins_code', 'insutype', 'setl_date'], unique=False)
        batch_op.create_index('ix_settlement_period', ['fixmedins_code', 'insutype', 'period'], unique=False)

    op.create_table('audit_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('settlement_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('rule_code', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('initial_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('result_date', sa.Date(), nullable=False),
    sa.Column('appeal_deadline', sa.Date(), nullable=False),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appeal_reason', sa.String(length=300), nullable=True),
    sa.Column('review_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('review_final', sa.Boolean(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consultation_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('consulted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('final_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('final_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('taken_statement_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("status IN ('INITIAL', 'APPEALED', 'REVIEWED', 'FINAL')", name=op.f('ck_audit_item_status')),
    sa.CheckConstraint('initial_amount_fen > 0', name=op.f('ck_audit_item_initial_amount')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlement.id'], name=op.f('fk_audit_item_settlement_id_settlement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_item')),
    sa.UniqueConstraint('settlement_id', 'rule_code', name=op.f('uq_audit_item_settlement_id_rule_code'))
    )
    with op.batch_alter_table('audit_item', schema=None) as batch_op:
        batch_op.create_index('ix_audit_item_open', ['fixmedins_code', 'insutype', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_item_settlement_id'), ['settlement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_item_taken_statement_id'), ['taken_statement_id'], unique=False)

    op.create_table('daily_approval',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('push_round', sa.Integer(), nullable=False),
    sa.Column('approver', sa.String(length=64), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['daily_batch.id'], name=op.f('fk_daily_approval_batch_id_daily_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_approval')),
    sa.UniqueConstraint('batch_id', 'push_round', 'approver', name=op.f('uq_daily_approval_batch_id_push_round_approver'))
    )
    with op.batch_alter_table('daily_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daily_approval_batch_id'), ['batch_id'], unique=False)

    op.create_table('daily_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('settlement_count', sa.Integer(), nullable=False),
    sa.Column('fund_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('held_by', sa.String(length=64), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('instruction_id', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['daily_batch.id'], name=op.f('fk_daily_line_batch_id_daily_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_line')),
    sa.UniqueConstraint('batch_id', 'fixmedins_code', name=op.f('uq_daily_line_batch_id_fixmedins_code')),
    sa.UniqueConstraint('instruction_id', name=op.f('uq_daily_line_instruction_id'))
    )
    with op.batch_alter_table('daily_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daily_line_fixmedins_code'), ['fixmedins_code'], unique=False)

    op.create_table('revocation',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('settlement_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_date', sa.Date(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('revoked_by', sa.String(length=64), nullable=False),
    sa.Column('batched', sa.Boolean(), nullable=False),
    sa.Column('reversal_batch_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlement.id'], name=op.f('fk_revocation_settlement_id_settlement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revocation')),
    sa.UniqueConstraint('settlement_id', name=op.f('uq_revocation_settlement_id'))
    )
    with op.batch_alter_table('revocation', schema=None) as batch_op:
        batch_op.create_index('ix_revocation_day', ['fixmedins_code', 'insutype', 'revoked_date'], unique=False)
        batch_op.create_index('ix_revocation_period', ['fixmedins_code', 'insutype', 'period'], unique=False)
        batch_op.create_index('ix_revocation_unreversed', ['insutype'], unique=False, postgresql_where=sa.text('batched AND reversal_batch_id IS NULL'), sqlite_where=sa.text('batched AND reversal_batch_id IS NULL'))

    op.create_table('settlement_list',
    sa.Column('settlement_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('list_no', sa.String(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlement.id'], name=op.f('fk_settlement_list_settlement_id_settlement')),
    sa.PrimaryKeyConstraint('settlement_id', name=op.f('pk_settlement_list'))
    )



def downgrade() -> None:

    op.drop_table('settlement_list')
    with op.batch_alter_table('revocation', schema=None) as batch_op:
        batch_op.drop_index('ix_revocation_unreversed', postgresql_where=sa.text('batched AND reversal_batch_id IS NULL'), sqlite_where=sa.text('batched AND reversal_batch_id IS NULL'))
        batch_op.drop_index('ix_revocation_period')
        batch_op.drop_index('ix_revocation_day')

    op.drop_table('revocation')
    with op.batch_alter_table('daily_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_line_fixmedins_code'))

    op.drop_table('daily_line')
    with op.batch_alter_table('daily_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_approval_batch_id'))

    op.drop_table('daily_approval')
    with op.batch_alter_table('audit_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_item_taken_statement_id'))
        batch_op.drop_index(batch_op.f('ix_audit_item_settlement_id'))
        batch_op.drop_index('ix_audit_item_open')

    op.drop_table('audit_item')
    with op.batch_alter_table('settlement', schema=None) as batch_op:
        batch_op.drop_index('ix_settlement_period')
        batch_op.drop_index('ix_settlement_day')
        batch_op.drop_index('ix_settlement_batching')
        batch_op.drop_index('ix_settlement_batch')

    op.drop_table('settlement')
    op.drop_table('declaration')
    with op.batch_alter_table('daily_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_batch_due')

    op.drop_table('daily_batch')
    op.drop_table('batch_state')
    with op.batch_alter_table('reconciliation', schema=None) as batch_op:
        batch_op.drop_index('ix_reconciliation_day')

    op.drop_table('reconciliation')
    op.drop_table('period_state')
    with op.batch_alter_table('payment_instruction', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_instruction_source')
        batch_op.drop_index('ix_payment_instruction_open')
        batch_op.drop_index(batch_op.f('ix_payment_instruction_fixmedins_code'))

    op.drop_table('payment_instruction')
    op.drop_table('appropriation')

