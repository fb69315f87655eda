"""Meeting ballots: every ballot a member signed is kept, a superseded one marked with when (`superseded_at`);
one current ballot per member and proposal (a partial unique index instead of the unique constraint)

A MeetingBallot signature has no nonce: the service refuses one sent again after the member replaced it, so it
must keep it. The table is copied (SQLite cannot drop the unnamed unique constraint of 0011 in place, and the
copy is the same on PostgreSQL); the ballots there now are all current.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "id, meeting_proposal_id, voter, choice, reason, signature, signed_at"
CURRENT = sa.text("superseded_at IS NULL")


def _ballots(name: str, *extra: sa.SchemaItem) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_proposal_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=42), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        *extra,
        sa.ForeignKeyConstraint(["meeting_proposal_id"], ["meeting_proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _swap(new: str, columns: str, where: str = "") -> None:
    op.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM meeting_ballots {where}")
    op.drop_index(op.f("ix_meeting_ballots_meeting_proposal_id"), table_name="meeting_ballots")
    op.drop_table("meeting_ballots")
    op.rename_table(new, "meeting_ballots")
    op.create_index(
        op.f("ix_meeting_ballots_meeting_proposal_id"), "meeting_ballots", ["meeting_proposal_id"], unique=False
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The names PostgreSQL gave the copy's constraints and sequence, as if the table had always been called so.
        constraints = bind.execute(
            sa.text("SELECT conname FROM pg_constraint WHERE conrelid = 'meeting_ballots'::regclass")
        ).scalars()
        for name in constraints:
            if name.startswith(f"{new}_"):
                renamed = "meeting_ballots_" + name.removeprefix(f"{new}_")
                op.execute(f'ALTER TABLE meeting_ballots RENAME CONSTRAINT "{name}" TO "{renamed}"')
        op.execute(f'ALTER SEQUENCE "{new}_id_seq" RENAME TO meeting_ballots_id_seq')
        # The rows came with their ids: the sequence goes on after them.
        op.execute("SELECT setval('meeting_ballots_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM meeting_ballots")


def upgrade() -> None:
    _ballots("meeting_ballots_new", sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    _swap("meeting_ballots_new", COLUMNS)
    op.create_index(
        "uq_meeting_ballots_current",
        "meeting_ballots",
        ["meeting_proposal_id", "voter"],
        unique=True,
        sqlite_where=CURRENT,
        postgresql_where=CURRENT,
    )


def downgrade() -> None:
    op.drop_index("uq_meeting_ballots_current", table_name="meeting_ballots")
    _ballots("meeting_ballots_old", sa.UniqueConstraint("meeting_proposal_id", "voter"))
    _swap("meeting_ballots_old", COLUMNS, "WHERE superseded_at IS NULL")  # the earlier ballots are lost
