"""Issuers' identities and signing keys: the slug of each partner's DID, the public keys behind the key hashes
the board accredits, and the key hash a board proposal names

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'issuers',
        sa.Column('address', sa.String(length=42), nullable=False),
        sa.Column('slug', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('address'),
        sa.UniqueConstraint('slug'),
    )
    op.create_table(
        'signing_keys',
        sa.Column('key_hash', sa.String(length=66), nullable=False),
        sa.Column('public_key_multibase', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=42), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key_hash'),
    )
    op.create_index('ix_signing_keys_address', 'signing_keys', ['address'])
    with op.batch_alter_table('board_proposals') as batch:
        batch.add_column(sa.Column('key_hash', sa.String(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('board_proposals') as batch:
        batch.drop_column('key_hash')
    op.drop_index('ix_signing_keys_address', table_name='signing_keys')
    op.drop_table('signing_keys')
    op.drop_table('issuers')
