"""console logins: password hash, failed-login counter and lock, console sessions

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29 21:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.alter_column('failed_logins', server_default=None)

    op.create_table('console_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_console_session_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_session')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_console_session_session_hash'))
    )
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_session_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_session_user_id'))
    op.drop_table('console_session')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('password_hash')
