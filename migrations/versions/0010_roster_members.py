"""who joined or left an open community's rotation

Issue 22: where a community says ``open_roster: true``, people add themselves to its
rotation (``join <key>``) or take themselves out (``leave <key>``); every replica reads it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_members",
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("person", sa.String(length=300), nullable=False),
        sa.Column("ref", sa.JSON(), nullable=False),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("community", "person", name=op.f("pk_roster_members")),
    )


def downgrade() -> None:
    op.drop_table("roster_members")
