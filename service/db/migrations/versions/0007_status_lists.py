"""Status lists (W3C Bitstring Status List): each partner's lists and each credential's place in one

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'status_lists',
        sa.Column('issuer_address', sa.String(length=42), nullable=False),
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('slug', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('allocated', sa.Integer(), nullable=False),
        sa.Column('scatter_key', sa.String(length=64), nullable=False),
        sa.Column('document', sa.JSON(), nullable=True),
        sa.Column('encoded_list', sa.Text(), nullable=True),
        sa.Column('block', sa.BigInteger(), nullable=True),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('issuer_address', 'number'),
        sa.UniqueConstraint('slug', 'number'),
    )
    op.create_table(
        'status_entries',
        sa.Column('issuer_address', sa.String(length=42), nullable=False),
        sa.Column('list_number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('status_index', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('credential_id', sa.String(length=36), nullable=False),
        sa.Column('digest', sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id']),
        sa.PrimaryKeyConstraint('issuer_address', 'list_number', 'status_index'),
        sa.UniqueConstraint('credential_id'),
    )
    op.create_index('ix_status_entries_digest', 'status_entries', ['digest'])


def downgrade() -> None:
    op.drop_index('ix_status_entries_digest', table_name='status_entries')
    op.drop_table('status_entries')
    op.drop_table('status_lists')
