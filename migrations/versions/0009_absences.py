"""who is away, and until when

Issue 22: an expert says they are away (``/escalate away until friday``); the rotation, the
nudge and their assigned questions honour it on every replica, so it lives in the database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("person", sa.String(length=300), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("set_by", sa.String(length=300), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_absences")),
    )


def downgrade() -> None:
    op.drop_table("absences")
