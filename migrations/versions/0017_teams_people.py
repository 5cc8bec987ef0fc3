"""a Teams person's chat id by their Entra ID object id

Teams activities carry both the person's ``29:`` chat id and their Entra object id
(``aadObjectId``); signing in to the console with Entra ID gives the object id only. This
table, filled as Teams activities arrive, lets the console know the person as the chat
does. Additive: a new table only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_people",
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("aad_object_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=300), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "aad_object_id", name=op.f("pk_teams_people")),
    )


def downgrade() -> None:
    op.drop_table("teams_people")
