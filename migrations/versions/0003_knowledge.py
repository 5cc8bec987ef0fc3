"""knowledge base with full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with storage.knowledge_search.PG_DOCUMENT (a test checks the index is used).
PG_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, question), 'A') || "
    "setweight(to_tsvector('english'::regconfig, answer), 'A') || "
    "setweight(to_tsvector('english'::regconfig, tags), 'B'))"
)


def upgrade() -> None:
    op.create_table(
        "knowledge",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("escalation_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=300), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_knowledge_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge")),
        sa.UniqueConstraint("escalation_id", name=op.f("uq_knowledge_escalation_id")),
    )
    with op.batch_alter_table("knowledge", schema=None) as batch_op:
        batch_op.create_index("ix_knowledge_community", ["community", "resolved_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_knowledge_search ON knowledge USING gin ({PG_DOCUMENT})")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE knowledge_fts USING fts5("
            "question, answer, tags, content='knowledge', content_rowid='id', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER knowledge_ai AFTER INSERT ON knowledge BEGIN "
            "INSERT INTO knowledge_fts(rowid, question, answer, tags) "
            "VALUES (new.id, new.question, new.answer, new.tags); END"
        )
        op.execute(
            "CREATE TRIGGER knowledge_ad AFTER DELETE ON knowledge BEGIN "
            "INSERT INTO knowledge_fts(knowledge_fts, rowid, question, answer, tags) "
            "VALUES ('delete', old.id, old.question, old.answer, old.tags); END"
        )
        op.execute(
            "CREATE TRIGGER knowledge_au AFTER UPDATE ON knowledge BEGIN "
            "INSERT INTO knowledge_fts(knowledge_fts, rowid, question, answer, tags) "
            "VALUES ('delete', old.id, old.question, old.answer, old.tags); "
            "INSERT INTO knowledge_fts(rowid, question, answer, tags) "
            "VALUES (new.id, new.question, new.answer, new.tags); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_knowledge_search")
    else:
        for trigger in ("knowledge_ai", "knowledge_ad", "knowledge_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    with op.batch_alter_table("knowledge", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_community")
    op.drop_table("knowledge")
