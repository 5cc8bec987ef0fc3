"""each person's time zone, as their chat platform last said it

Issue 22, follow the sun: Slack sends a person's profile ``tz`` with the ``user_change``
event already read for their status; it is kept here so that no assignment asks Slack.
Additive: a new table only.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_zones",
        sa.Column("person", sa.String(length=300), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name=op.f("pk_person_zones")),
    )


def downgrade() -> None:
    op.drop_table("person_zones")
