"""audit attachments: files attached to appeals of audit results (PDF, PNG, JPEG ≤ 5 MiB)

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-29 21:58:48.530865
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_attachment',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('audit_item_id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("media_type IN ('application/pdf', 'image/png', 'image/jpeg')", name=op.f('ck_audit_attachment_media_type')),
    sa.CheckConstraint('size_bytes > 0 AND size_bytes <= 5242880', name=op.f('ck_audit_attachment_size')),
    sa.ForeignKeyConstraint(['audit_item_id'], ['audit_item.id'], name=op.f('fk_audit_attachment_audit_item_id_audit_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_attachment')),
    sa.UniqueConstraint('audit_item_id', 'sha256', name=op.f('uq_audit_attachment_audit_item_id_sha256'))
    )


def downgrade() -> None:
    op.drop_table('audit_attachment')
