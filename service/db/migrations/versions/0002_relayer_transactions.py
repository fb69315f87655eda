"""the relayer's transactions and their attempts; a batch's block hash

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'relayer_transactions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sender', sa.String(length=42), nullable=False),
        sa.Column('nonce', sa.BigInteger(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('batch_id', sa.String(length=36), nullable=True),
        sa.Column('reference', sa.String(length=100), nullable=True),
        sa.Column('signer', sa.String(length=42), nullable=True),
        sa.Column('signer_nonce', sa.BigInteger(), nullable=True),
        sa.Column('to', sa.String(length=42), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('gas', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('tx_hash', sa.String(length=66), nullable=True),
        sa.Column('block_number', sa.BigInteger(), nullable=True),
        sa.Column('block_hash', sa.String(length=66), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['batches.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sender', 'nonce'),
    )
    op.create_index('ix_relayer_transactions_batch_id', 'relayer_transactions', ['batch_id'])
    op.create_index('ix_relayer_transactions_reference', 'relayer_transactions', ['reference'])
    op.create_index('ix_relayer_transactions_signer', 'relayer_transactions', ['signer'])
    op.create_index('ix_relayer_transactions_state', 'relayer_transactions', ['state'])
    op.create_table(
        'relayer_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('tx_hash', sa.String(length=66), nullable=False),
        sa.Column('raw', sa.Text(), nullable=False),
        sa.Column('max_fee', sa.BigInteger(), nullable=False),
        sa.Column('priority_fee', sa.BigInteger(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['transaction_id'], ['relayer_transactions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('transaction_id', 'attempt'),
        sa.UniqueConstraint('tx_hash'),
    )
    op.create_index('ix_relayer_attempts_transaction_id', 'relayer_attempts', ['transaction_id'])
    with op.batch_alter_table('batches') as batch:
        batch.add_column(sa.Column('block_hash', sa.String(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('batches') as batch:
        batch.drop_column('block_hash')
    op.drop_index('ix_relayer_attempts_transaction_id', table_name='relayer_attempts')
    op.drop_table('relayer_attempts')
    op.drop_index('ix_relayer_transactions_state', table_name='relayer_transactions')
    op.drop_index('ix_relayer_transactions_signer', table_name='relayer_transactions')
    op.drop_index('ix_relayer_transactions_reference', table_name='relayer_transactions')
    op.drop_index('ix_relayer_transactions_batch_id', table_name='relayer_transactions')
    op.drop_table('relayer_transactions')
