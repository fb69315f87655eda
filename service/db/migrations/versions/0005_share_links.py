"""Share links made for printed certificates: each discloses exactly the claims its certificate prints

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'share_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.String(length=36), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('claims', sa.JSON(), nullable=False),
        sa.Column('claims_key', sa.String(length=200), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credential_id', 'claims_key'),
        sa.UniqueConstraint('token'),
    )
    op.create_index('ix_share_links_credential_id', 'share_links', ['credential_id'])


def downgrade() -> None:
    op.drop_index('ix_share_links_credential_id', table_name='share_links')
    op.drop_table('share_links')
