"""The two engines of the knowledge search, each a few fixed statements (every value a bound
parameter): PostgreSQL full-text search over the stored, weighted ``search_vector`` (GIN
index, ranked with ``ts_rank_cd``), SQLite FTS5 (ranked here by the rarity of the terms an
answer holds). ``KnowledgeRepository.search`` (storage/knowledge.py) picks one.

Cost is bounded however long the history grows: a query ranks at most ``CANDIDATES`` of
its matches, the most recently captured ones, instead of every answer that shares a word
with it (bench/HISTORY.md, growth: with a support vocabulary that was most of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from workflows.model import Attachment

from .knowledge_words import fts5_query

# The PostgreSQL document: what the stored ``search_vector`` column holds (migration 0006).
PG_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, question), 'A') || "
    "setweight(to_tsvector('english'::regconfig, answer), 'A') || "
    "setweight(to_tsvector('english'::regconfig, tags), 'B'))"
)
# Matches ranked per query, newest first. A phrase match older than this many newer
# matches of the same words can be missed; in exchange a search costs the same at 1M
# answers as at 10k.
CANDIDATES = 2000
# PostgreSQL: how many of the newest answers are read in order first; when they hold at
# least a quarter of ``CANDIDATES`` matches, those are ranked (see ``search_postgres``).
RECENT = 40_000
# Within the viewer's tenant, as the chat's own queries are (an empty tenant: any).
SCOPE_SQL = (
    "EXISTS (SELECT 1 FROM escalation_scopes s WHERE s.escalation_id = k.escalation_id "
    "AND s.platform = :platform AND (s.tenant = :tenant OR s.tenant = '' OR :tenant = ''))"
)
# Phrase OR any word; ts_rank_cd rewards terms that stand close together.
_PG_QUERY = (
    "(phraseto_tsquery('english', :words) || replace(plainto_tsquery('english', :words)::text, '&', '|')::tsquery)"
)


@dataclass(frozen=True)
class KnowledgeHit:
    escalation_id: str
    community: str
    question: str
    answer: str
    answered_by: str | None
    resolved_at: datetime
    score: float
    files: tuple[Attachment, ...] = ()


def _hit(row: Any, score: float) -> KnowledgeHit:
    resolved = row.resolved_at
    if isinstance(resolved, str):
        resolved = datetime.fromisoformat(resolved)
    if resolved.tzinfo is None:
        resolved = resolved.replace(tzinfo=UTC)
    return KnowledgeHit(
        escalation_id=row.escalation_id,
        community=row.community,
        question=row.question,
        answer=row.answer,
        answered_by=row.answered_by,
        resolved_at=resolved,
        score=score,
        files=_files_of(row.data),
    )


def _files_of(data: Any) -> tuple[Attachment, ...]:
    """The answer's files from a row's ``data`` (text from a textual query on either driver)."""
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        return ()
    return tuple(Attachment.model_validate(f) for f in data.get("files") or ())


async def search_postgres(
    session: AsyncSession, words: list[str], community_sql: str, params: dict[str, Any]
) -> list[KnowledgeHit]:
    """The newest ``candidates`` matches, ranked. Which plan finds them fastest depends on how
    common the words are, which the planner cannot tell (words it has no statistics for it
    takes as common): reading the answers newest first and testing each stops early when
    matches are frequent and reads the whole table when there are none; the GIN index finds
    rare words at once but fetches and sorts every match of common ones (1.8 s for the
    console's "token refresh crash" at 1M answers). So both, in turn: the newest ``RECENT``
    answers in order first (a bounded read), whose matches are the candidates when they are at
    least a quarter of ``candidates``; fewer make the words rarer than one answer in 80, and
    the index finds the newest ``candidates`` of all their matches (a few thousand at 1M
    answers). Then one statement ranks the ids found.

    The query is a materialized CTE, computed once per statement and opaque to the planner
    (read in order as a scalar subquery: joined, it made the planner sort all 40,000 answers'
    matches instead of stopping at the newest ``candidates``), and the index's statement orders
    by ``k.id + 0``, which no index serves: a cached generic
    plan (asyncpg prepares each statement; after five runs PostgreSQL may keep one plan for
    any words) can then neither read the whole table in order nor rebuild the query per row."""
    params = {**params, "words": " ".join(words)}
    recent = f"""
        WITH q AS MATERIALIZED (SELECT {_PG_QUERY} AS query)
        SELECT k.id FROM (
            SELECT id, escalation_id, community, search_vector FROM knowledge ORDER BY id DESC LIMIT :recent
        ) k
        WHERE k.search_vector @@ (SELECT query FROM q) AND {SCOPE_SQL}{community_sql}
        ORDER BY k.id DESC
        LIMIT :candidates
    """  # noqa: S608 - only our own constants are formatted in; user text is bound
    ids = list((await session.execute(text(recent), params)).scalars())
    if len(ids) < max(1, params["candidates"] // 4):
        indexed = f"""
            WITH q AS MATERIALIZED (SELECT {_PG_QUERY} AS query)
            SELECT k.id FROM knowledge k, q
            WHERE k.search_vector @@ q.query AND {SCOPE_SQL}{community_sql}
            ORDER BY k.id + 0 DESC
            LIMIT :candidates
        """  # noqa: S608 - as above
        ids = list((await session.execute(text(indexed), params)).scalars())
    if not ids:
        return []
    ranked = f"""
        WITH q AS MATERIALIZED (SELECT {_PG_QUERY} AS query)
        SELECT k.escalation_id, k.community, k.question, k.answer, k.answered_by, k.resolved_at, k.data,
               ts_rank_cd(k.search_vector, q.query, 1) AS score
        FROM knowledge k, q
        WHERE k.id = ANY(CAST(:ids AS bigint[]))
        ORDER BY score DESC, k.resolved_at DESC
        LIMIT :limit
    """  # noqa: S608 - as above
    rows = (await session.execute(text(ranked), {**params, "ids": ids})).all()
    return [_hit(row, float(row.score)) for row in rows]


# Which rows hold term n, from the oldest candidate on (formatted with a number only).
_TERM_ROWS = (
    "SELECT {n} AS term, rowid AS id FROM knowledge_fts "
    "WHERE knowledge_fts MATCH :term{n} AND rowid >= (SELECT min(id) FROM candidates)"
)


async def search_sqlite(
    session: AsyncSession, words: list[str], community_sql: str, params: dict[str, Any]
) -> list[KnowledgeHit]:
    """FTS5 finds the newest ``candidates`` matches lazily (``ORDER BY rowid DESC``) and
    which of the query's terms each of them holds; the statement ranks them by those terms.

    Not FTS5's bm25: its inverse document frequencies count every row holding each term
    in the whole index, once per query, which made a search cost grow with the history
    (bench/HISTORY.md, growth: the deflection search 9.5 ms at 10k answers, 63 ms at 1M).
    Here a term weighs by how rare it is among the candidates, and an answer scores the
    weights of the terms it holds, the whole phrase counting double: an answer holding
    more, and rarer, of the asker's words ranks first, the newer first among equals.
    Term frequency and length are not counted; in questions and answers a few sentences
    long they say little.
    """
    terms = [f'"{w}"' for w in words]
    if len(words) > 1:
        terms.append('"' + " ".join(words) + '"')
    params["match"] = fts5_query(words)
    params["phrase"] = len(terms) - 1 if len(words) > 1 else -1
    params.update({f"term{n}": term for n, term in enumerate(terms)})
    # Every candidate holds at least one term, so each one's terms are found by asking
    # FTS5 for each term's rows from the oldest candidate on. Those lists also hold rows
    # of other communities or tenants: only the candidates' own ids are kept. (``+id``
    # keeps SQLite from pushing that filter into FTS5 as one lookup per candidate.)
    each = " UNION ALL ".join(_TERM_ROWS.format(n=n) for n in range(len(terms)))
    sql = f"""
        WITH candidates AS MATERIALIZED (
            SELECT k.id FROM knowledge_fts JOIN knowledge k ON k.id = knowledge_fts.rowid
            WHERE knowledge_fts MATCH :match AND {SCOPE_SQL}{community_sql}
            ORDER BY knowledge_fts.rowid DESC
            LIMIT :candidates
        ),
        held AS MATERIALIZED (
            SELECT term, id FROM ({each}) WHERE +id IN (SELECT id FROM candidates)
        ),
        weights AS (
            SELECT term,
                   eb_idf(count(*), (SELECT count(*) FROM candidates))
                   * (CASE WHEN term = :phrase THEN 2 ELSE 1 END) AS weight
            FROM held GROUP BY term
        ),
        scored AS (
            SELECT held.id, sum(weights.weight) AS score
            FROM held JOIN weights ON weights.term = held.term
            GROUP BY held.id
            ORDER BY score DESC, held.id DESC
            LIMIT :limit
        )
        SELECT k.escalation_id, k.community, k.question, k.answer, k.answered_by, k.resolved_at, k.data,
               scored.score
        FROM scored JOIN knowledge k ON k.id = scored.id
        ORDER BY scored.score DESC, scored.id DESC
    """  # noqa: S608 - only our own constants are formatted in; user text is bound
    rows = (await session.execute(text(sql), params)).all()
    return [_hit(row, float(row.score)) for row in rows]
