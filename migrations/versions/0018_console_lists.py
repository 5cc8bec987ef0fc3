"""the console's lists at size: the newest first from an index, the question's words indexed

Issue 23, fast at size. At 1M escalations the list's first page sorted the whole history by
``created_at`` (no index led with it) and the ``words`` filter read every document with a LIKE
(bench/README.md, the web console). An index on (created_at, id) serves the list's order and
its "older than this one" pages; the question's words get a full-text index per dialect (see
storage/question_words.py): PostgreSQL a GIN index over the question's tsvector, SQLite an
FTS5 table numbered by ``escalation_words`` and kept in step by triggers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 03:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with storage.question_words.PG_QUESTION_VECTOR (a test checks the index is used).
PG_QUESTION_VECTOR = "to_tsvector('english'::regconfig, (data ->> 'question'::text))"


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_created", ["created_at", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_escalations_words ON escalations USING gin ({PG_QUESTION_VECTOR})")
        # The planner knows how common each word is only from the expression's statistics,
        # gathered by ANALYZE (autovacuum would wait for a tenth of the table to change).
        # Without them it takes every word as rare-ish and may read the list in order testing
        # each row, the whole history for words no question holds.
        op.execute("ANALYZE escalations")
        return
    op.execute("CREATE TABLE escalation_words (id INTEGER PRIMARY KEY, escalation_id VARCHAR(64) NOT NULL UNIQUE)")
    op.execute("CREATE VIRTUAL TABLE escalation_words_fts USING fts5(question, tokenize='porter unicode61')")
    op.execute("INSERT INTO escalation_words (escalation_id) SELECT id FROM escalations ORDER BY created_at, id")
    op.execute(
        "INSERT INTO escalation_words_fts (rowid, question) SELECT w.id, json_extract(e.data, '$.question') "
        "FROM escalation_words w JOIN escalations e ON e.id = w.escalation_id"
    )
    op.execute(
        "CREATE TRIGGER escalation_words_ai AFTER INSERT ON escalations BEGIN "
        "INSERT INTO escalation_words (escalation_id) VALUES (new.id); "
        "INSERT INTO escalation_words_fts (rowid, question) VALUES ("
        "(SELECT id FROM escalation_words WHERE escalation_id = new.id), json_extract(new.data, '$.question')); END"
    )
    op.execute(
        "CREATE TRIGGER escalation_words_au AFTER UPDATE OF data ON escalations "
        "WHEN json_extract(old.data, '$.question') IS NOT json_extract(new.data, '$.question') BEGIN "
        "UPDATE escalation_words_fts SET question = json_extract(new.data, '$.question') "
        "WHERE rowid = (SELECT id FROM escalation_words WHERE escalation_id = new.id); END"
    )
    op.execute(
        "CREATE TRIGGER escalation_words_ad AFTER DELETE ON escalations BEGIN "
        "DELETE FROM escalation_words_fts "
        "WHERE rowid = (SELECT id FROM escalation_words WHERE escalation_id = old.id); "
        "DELETE FROM escalation_words WHERE escalation_id = old.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_escalations_words")
    else:
        for trigger in ("escalation_words_ai", "escalation_words_au", "escalation_words_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS escalation_words_fts")
        op.execute("DROP TABLE IF EXISTS escalation_words")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_created")
