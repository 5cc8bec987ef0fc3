"""PostgreSQL: a stored tsvector for the knowledge base

With the GIN index over an expression, every matching row had its text parsed again to
rank it (and to recheck lossy bitmap pages): searches grew with the number of matching
answers, 7.9 s at 1M escalations (bench/HISTORY.md, growth). A stored generated column
holds the vector once; the index and the ranking read it. SQLite (FTS5) is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with storage.knowledge_search.PG_DOCUMENT.
PG_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, question), 'A') || "
    "setweight(to_tsvector('english'::regconfig, answer), 'A') || "
    "setweight(to_tsvector('english'::regconfig, tags), 'B'))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE knowledge ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED")
    op.execute("CREATE INDEX ix_knowledge_search_vector ON knowledge USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_knowledge_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_knowledge_search ON knowledge USING gin ({PG_DOCUMENT})")
    op.execute("DROP INDEX IF EXISTS ix_knowledge_search_vector")
    op.execute("ALTER TABLE knowledge DROP COLUMN search_vector")
