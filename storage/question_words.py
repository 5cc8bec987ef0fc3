"""The words of every escalation's question, indexed: the console list's ``words`` filter.

The filter finds questions in every state (open, resolved, cancelled), so it cannot ride on
the knowledge base, which holds resolved ones only. Each dialect indexes the question text
itself, made by the migrations (0018) and kept out of the model comparison like the
knowledge base's full-text structures:

- PostgreSQL: a GIN index over ``to_tsvector('english', data ->> 'question')``
  (``ix_escalations_words``); the filter repeats the same expression so the planner can use
  it, or, when the words are common, walk the list's own order and test each row.
- SQLite: an FTS5 table (``escalation_words_fts``, porter stemming) whose rows are numbered
  by ``escalation_words`` (an integer key per escalation: FTS5 needs one, and SQLite's own
  rowid of a table keyed by text may change under VACUUM). Triggers on ``escalations`` keep
  both in step with inserts, deletes and a changed question.

Every word must appear (stemmed; the last letters typed may be a prefix, ``refr`` finds
"refresh"). Only letters and digits make words, so nothing typed is read as query syntax.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, String, column, false, func, literal_column, text

from .tables import EscalationRow

# Kept in step with the migration that creates the index (the planner matches the expression).
PG_QUESTION_VECTOR = "to_tsvector('english'::regconfig, (escalations.data ->> 'question'::text))"
FULL_TEXT_OBJECTS = frozenset({"ix_escalations_words", "escalation_words", "escalation_words_fts"})
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def filter_words(words: str) -> list[str]:
    """The words a filter looks for: letters and digits only, lower case, at most ``MAX_WORDS``."""
    return list(dict.fromkeys(_WORD.findall(words.lower())))[:MAX_WORDS]


def pg_query(words: list[str]) -> str:
    """A ``to_tsquery`` text: every word, each as a prefix (``ios:* & crash:*``)."""
    return " & ".join(f"{w}:*" for w in words)


def fts5_all(words: list[str]) -> str:
    """An FTS5 query: every word, each as a quoted prefix (``"ios"* AND "crash"*``)."""
    return " AND ".join(f'"{w}"*' for w in words)


def question_has(words: str, dialect: str) -> ColumnElement[bool]:
    """The condition on ``escalations`` that its question holds every one of ``words``."""
    found = filter_words(words)
    if not found:
        # Nothing searchable (only punctuation): nothing matches, as no question holds "%".
        return false()
    if dialect == "postgresql":
        tsquery = func.to_tsquery(literal_column("'english'::regconfig"), pg_query(found))
        return literal_column(PG_QUESTION_VECTOR).bool_op("@@")(tsquery)
    matching = text(
        "SELECT w.escalation_id FROM escalation_words_fts f JOIN escalation_words w ON w.id = f.rowid "
        "WHERE escalation_words_fts MATCH :question_words"
    ).bindparams(question_words=fts5_all(found))
    return EscalationRow.id.in_(matching.columns(column("escalation_id", String)))
