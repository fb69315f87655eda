"""Board meetings: a meeting, the proposals drafted and signed for it, and the members' signed ballots

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("secretary", sa.String(length=42), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash"),
    )
    op.create_index(op.f("ix_meetings_secretary"), "meetings", ["secretary"], unique=False)
    op.create_table(
        "meeting_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("proposer", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=42), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=66), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "position"),
    )
    op.create_index(op.f("ix_meeting_proposals_meeting_id"), "meeting_proposals", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_meeting_proposals_proposal_id"), "meeting_proposals", ["proposal_id"], unique=False)
    op.create_table(
        "meeting_ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_proposal_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=42), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_proposal_id"], ["meeting_proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_proposal_id", "voter"),
    )
    op.create_index(
        op.f("ix_meeting_ballots_meeting_proposal_id"), "meeting_ballots", ["meeting_proposal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_ballots_meeting_proposal_id"), table_name="meeting_ballots")
    op.drop_table("meeting_ballots")
    op.drop_index(op.f("ix_meeting_proposals_proposal_id"), table_name="meeting_proposals")
    op.drop_index(op.f("ix_meeting_proposals_meeting_id"), table_name="meeting_proposals")
    op.drop_table("meeting_proposals")
    op.drop_index(op.f("ix_meetings_secretary"), table_name="meetings")
    op.drop_table("meetings")
