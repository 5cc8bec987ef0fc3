"""per-conversation pacing shared by every replica

Each process paced its own sends to a channel, so two replicas together posted twice as
fast as Slack allows in one channel. The recent sends of each conversation now live in the
database, and a replica takes its turn there. Additive: a new table only.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pacing",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.Column("busy_until", sa.Double(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("platform", "target", name=op.f("pk_pacing")),
    )


def downgrade() -> None:
    op.drop_table("pacing")
