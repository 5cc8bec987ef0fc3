"""indexes for the daily digest's windows

The digest asks each community for what was resolved since the last digest and what was
opened in the last week. With only (community, status, created_at), both read every
resolved escalation of the community, so the digest grew with the whole history
(bench/HISTORY.md, growth).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_community_created", ["community", "created_at"], unique=False)
        batch_op.create_index("ix_escalations_community_resolved", ["community", "resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_community_resolved")
        batch_op.drop_index("ix_escalations_community_created")
