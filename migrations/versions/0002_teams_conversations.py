"""teams conversation references

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("conversation_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("team_id", sa.String(length=300), nullable=True),
        sa.Column("channel_id", sa.String(length=300), nullable=True),
        sa.Column("user_id", sa.String(length=300), nullable=True),
        sa.Column("bot_id", sa.String(length=300), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unreachable_reason", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_teams_conversations")),
    )
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.create_index("ix_teams_conversations_team", ["team_id"], unique=False)
        batch_op.create_index("ix_teams_conversations_user", ["tenant", "user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_teams_conversations_user")
        batch_op.drop_index("ix_teams_conversations_team")
    op.drop_table("teams_conversations")
