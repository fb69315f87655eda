"""the indexer's block hashes (reorgs); events it could not store as is: why, and the raw log

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'indexed_blocks',
        sa.Column('number', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint('number'),
    )
    with op.batch_alter_table('chain_events') as batch:
        batch.add_column(sa.Column('problem', sa.Text(), nullable=True))
        batch.add_column(sa.Column('raw_log', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chain_events') as batch:
        batch.drop_column('raw_log')
        batch.drop_column('problem')
    op.drop_table('indexed_blocks')
