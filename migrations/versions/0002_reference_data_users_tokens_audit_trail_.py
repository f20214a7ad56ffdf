"""reference data, users, tokens, audit trail, alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:17:47.243944
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('kind', 'subject', name=op.f('uq_alert_kind_subject'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_at'), ['at'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_key', sa.String(length=128), nullable=False),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('region',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('division_prefixes', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    op.create_table('fund_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('expenditure_account', sa.String(length=34), nullable=False),
    sa.Column('expenditure_account_name', sa.String(length=100), nullable=False),
    sa.Column('requires_settlement_list', sa.Boolean(), nullable=False),
    sa.CheckConstraint("insutype IN ('310', '390')", name=op.f('ck_fund_ledger_insutype')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_fund_ledger_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_ledger')),
    sa.UniqueConstraint('region_code', 'insutype', name=op.f('uq_fund_ledger_region_code_insutype'))
    )
    op.create_table('institution',
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('bank_account', sa.String(length=34), nullable=False),
    sa.Column('bank_account_name', sa.String(length=100), nullable=False),
    sa.Column('bank_code', sa.String(length=12), nullable=False),
    sa.Column('med_type_prefixes', sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_institution_level')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_institution_region_code_region')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_institution'))
    )
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_region_code'), ['region_code'], unique=False)

    op.create_table('app_user',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'hospital') = (fixmedins_code IS NOT NULL)", name=op.f('ck_app_user_hospital_has_institution')),
    sa.CheckConstraint("role IN ('hospital', 'operator', 'accountant', 'auditor', 'admin')", name=op.f('ck_app_user_role')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_app_user_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('name', name=op.f('uq_app_user_name'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_fixmedins_code'), ['fixmedins_code'], unique=False)

    op.create_table('enrollment',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fixmedins_code', sa.String(length=30), nullable=False),
    sa.Column('insutype', sa.String(length=3), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint("insutype IN ('310', '390')", name=op.f('ck_enrollment_insutype')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_enrollment_dates')),
    sa.ForeignKeyConstraint(['fixmedins_code'], ['institution.code'], name=op.f('fk_enrollment_fixmedins_code_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment')),
    sa.UniqueConstraint('fixmedins_code', 'insutype', 'start_date', name=op.f('uq_enrollment_fixmedins_code_insutype_start_date'))
    )
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_fixmedins_code'), ['fixmedins_code'], unique=False)

    op.create_table('policy_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('fund_ledger_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('daily_ratio_bp', sa.Integer(), nullable=False),
    sa.Column('deposit_rate_bp', sa.Integer(), nullable=False),
    sa.Column('submission_time', sa.String(length=5), nullable=False),
    sa.Column('cutoff_time', sa.String(length=5), nullable=False),
    sa.Column('declaration_day', sa.Integer(), nullable=False),
    sa.Column('appeal_window_days', sa.Integer(), nullable=False),
    sa.Column('approval_threshold_fen', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('appeal_window_days BETWEEN 1 AND 60', name=op.f('ck_policy_version_appeal_window')),
    sa.CheckConstraint('daily_ratio_bp BETWEEN 0 AND 10000', name=op.f('ck_policy_version_daily_ratio')),
    sa.CheckConstraint('declaration_day BETWEEN 1 AND 28', name=op.f('ck_policy_version_declaration_day')),
    sa.CheckConstraint('deposit_rate_bp BETWEEN 0 AND 10000', name=op.f('ck_policy_version_deposit_rate')),
    sa.ForeignKeyConstraint(['fund_ledger_id'], ['fund_ledger.id'], name=op.f('fk_policy_version_fund_ledger_id_fund_ledger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_version')),
    sa.UniqueConstraint('fund_ledger_id', 'effective_from', name=op.f('uq_policy_version_fund_ledger_id_effective_from'))
    )
    with op.batch_alter_table('policy_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_version_fund_ledger_id'), ['fund_ledger_id'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)
    _append_only("audit_event")


def _append_only(table: str) -> None:
    """UPDATE and DELETE (and TRUNCATE) are refused by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION fundledger_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fundledger_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fundledger_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('policy_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_version_fund_ledger_id'))

    op.drop_table('policy_version')
    with op.batch_alter_table('enrollment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_fixmedins_code'))

    op.drop_table('enrollment')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_fixmedins_code'))

    op.drop_table('app_user')
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_region_code'))

    op.drop_table('institution')
    op.drop_table('fund_ledger')
    op.drop_table('region')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_at'))

    op.drop_table('alert')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fundledger_append_only()")
