"""who is in each Slack user group used as a roster

Issue 22: ``experts: ["slack:usergroup:S0123ABCD"]``; the members Slack last gave are kept
here so that every replica assigns from them without asking Slack.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_groups",
        sa.Column("user_group", sa.String(length=100), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_group", name=op.f("pk_user_groups")),
    )


def downgrade() -> None:
    op.drop_table("user_groups")
