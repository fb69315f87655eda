"""The graduate's own page: web sessions (hashed id, kind, subject, CSRF secret) and her share links (a label,
withdrawn)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('csrf_secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id_hash'),
    )
    op.create_index('ix_web_sessions_subject', 'web_sessions', ['subject'])
    op.add_column('share_links', sa.Column('label', sa.String(length=100), nullable=True))
    op.add_column('share_links', sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('share_links') as batch:
        batch.drop_column('withdrawn_at')
        batch.drop_column('label')
    op.drop_index('ix_web_sessions_subject', table_name='web_sessions')
    op.drop_table('web_sessions')
