"""The knowledge base: resolved questions with their answers, searchable by relevance.

One interface, two engines: SQLite FTS5 (porter stemming; ranked here, by the rarity of
the terms an answer holds, see ``_search_sqlite``) on the embedded
default, PostgreSQL full-text search (a stored, weighted ``tsvector`` column with a GIN
index, ranked with ``ts_rank_cd``) in production. The full-text structures are created
by the migrations for each dialect; the table itself is an ordinary model.

Cost is bounded however long the history grows: a query ranks at most ``CANDIDATES`` of
its matches, the most recently captured ones, instead of every answer that shares a word
with it (bench/HISTORY.md, growth: with a support vocabulary that was most of them).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from workflows.model import Attachment, Escalation
from workflows.ports import Scope

from .direct import Repository, Work
from .question_words import FULL_TEXT_OBJECTS as QUESTION_WORDS
from .tables import Base, BigId

# The PostgreSQL document: what the stored ``search_vector`` column holds (migration 0006).
PG_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, question), 'A') || "
    "setweight(to_tsvector('english'::regconfig, answer), 'A') || "
    "setweight(to_tsvector('english'::regconfig, tags), 'B'))"
)
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12
# Matches ranked per query, newest first. A phrase match older than this many newer
# matches of the same words can be missed; in exchange a search costs the same at 1M
# answers as at 10k.
CANDIDATES = 2000
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"
# SQLite: how many virtual machine steps between two looks at the clock during a bounded search.
PROGRESS_STEPS = 1000

log = logging.getLogger(__name__)
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "your",
        "with",
        "this",
        "that",
        "from",
        "have",
        "has",
        "had",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
        "does",
        "did",
        "doing",
        "our",
        "out",
        "any",
        "all",
        "its",
        "into",
        "than",
        "then",
        "them",
        "they",
        "there",
        "their",
        "about",
        "after",
        "before",
        "again",
        "also",
        "just",
        "like",
        "get",
        "got",
        "please",
        "help",
        "need",
        "issue",
        "problem",
    ]
)


FULL_TEXT_OBJECTS = {"knowledge_fts", "ix_knowledge_search", "ix_knowledge_search_vector", "search_vector"}


def schema_filter(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For Alembic: the full-text structures (the knowledge base's and the questions' words)
    are made by hand per dialect, not by models."""
    if not name:
        return True
    hand_made = FULL_TEXT_OBJECTS | QUESTION_WORDS
    return not (name in hand_made or name.startswith(("knowledge_fts_", "escalation_words_fts_")))


class KnowledgeRow(Base):
    __tablename__ = "knowledge"

    # An integer key of our own: FTS5's external-content index follows it, and unlike
    # SQLite's implicit rowid it never changes under VACUUM.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("escalations.id", ondelete="CASCADE"), unique=True
    )
    tenant: Mapped[str] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(300))
    resolved_at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_knowledge_community", "community", "resolved_at"),)


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


def words_of(query: str, limit: int | None = MAX_QUERY_WORDS) -> list[str]:
    seen = list(dict.fromkeys(_WORD.findall(query.lower())))
    return seen if limit is None else seen[:limit]


def fts5_query(words: list[str]) -> str:
    """Any word matches (stemmed); the whole phrase, when present, scores on top.

    Every word is quoted, so nothing a person types is read as FTS5 syntax.
    """
    quoted = [f'"{w}"' for w in words]
    parts = [" OR ".join(quoted)]
    if len(words) > 1:
        parts.insert(0, '"' + " ".join(words) + '"')
    return " OR ".join(parts)


# Which rows hold term n, from the oldest candidate on (formatted with a number only).
_TERM_ROWS = (
    "SELECT {n} AS term, rowid AS id FROM knowledge_fts "
    "WHERE knowledge_fts MATCH :term{n} AND rowid >= (SELECT min(id) FROM candidates)"
)


def idf(holding: int, candidates: int) -> float:
    """A term's weight: the BM25 inverse document frequency, counted among the candidates.
    Registered on every SQLite connection as ``eb_idf`` (storage/db.py): SQLite's own
    ``ln`` exists only where it was compiled in."""
    return math.log(1 + (candidates - holding + 0.5) / (holding + 0.5))


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


# How many hits ``similar`` looks through per suggestion it may show.
SIMILAR_POOL = 4


def close_to(question: str, hits: list[KnowledgeHit], limit: int = 3) -> list[KnowledgeHit]:
    """Of ``hits`` (``related``'s, best first), those close enough to show before escalating:
    most of the new question's significant words appear in the old question or its answer."""
    significant = [w for w in words_of(question) if len(w) > 2 and w not in STOPWORDS]
    if not significant:
        return []
    needed = 1 if len(significant) == 1 else max(2, math.ceil(len(significant) / 2))
    close = []
    for hit in hits[: limit * SIMILAR_POOL]:
        stems = {w[:5] for w in words_of(f"{hit.question} {hit.answer}", limit=None)}
        if sum(1 for w in significant if w[:5] in stems) >= needed:
            close.append(hit)
    return close[:limit]


class KnowledgeRepository(Repository):
    def __init__(self, work: Work, candidates: int = CANDIDATES) -> None:
        super().__init__(work)
        self.candidates = candidates

    @property
    def _dialect(self) -> str:
        return self.direct.dialect.name

    async def capture(self, esc: Escalation, tags: list[str] | None = None) -> None:
        """Record (or refresh) a resolved escalation with its answer."""
        if esc.resolved_at is None:
            return
        answerer = esc.first_responder or esc.resolved_by
        all_tags = [esc.community.key, esc.priority.value, *(tags or [])]
        if esc.customer:
            all_tags.append(esc.customer)
        values = {
            "escalation_id": esc.id,
            "tenant": esc.tenant,
            "community": esc.community.key,
            "question": esc.question,
            "answer": esc.answer or "",
            "tags": " ".join(dict.fromkeys(all_tags)),
            "answered_by": answerer.key if answerer else None,
            "resolved_at": esc.resolved_at,
            "data": {
                "link": esc.link,
                "answer_ref": esc.answer_ref.model_dump() if esc.answer_ref else None,
                "files": [f.model_dump() for f in esc.files],
            },
        }
        insert = pg_insert if self._dialect == "postgresql" else sqlite_insert
        stmt = insert(KnowledgeRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[KnowledgeRow.escalation_id],
            set_={k: v for k, v in values.items() if k != "escalation_id"},
        )
        await self.session.execute(stmt)

    async def forget(self, escalation_id: str) -> None:
        await self.session.execute(delete(KnowledgeRow).where(KnowledgeRow.escalation_id == escalation_id))

    async def search(
        self, query: str, scope: Scope, *, community: str | None = None, limit: int = 5
    ) -> list[KnowledgeHit]:
        words = words_of(query)
        if not words:
            return []
        # Fixed SQL; every value is a bound parameter.
        scope_sql = (
            "EXISTS (SELECT 1 FROM escalation_scopes s WHERE s.escalation_id = k.escalation_id "
            "AND s.platform = :platform AND (s.tenant = :tenant OR s.tenant = '' OR :tenant = ''))"
        )
        params: dict[str, Any] = {
            "platform": scope.platform,
            "tenant": scope.tenant,
            "limit": limit,
            "candidates": self.candidates,
        }
        community_sql = ""
        if community:
            community_sql = " AND k.community = :community"
            params["community"] = community
        if self._dialect == "postgresql":
            params["words"] = " ".join(words)
            # Phrase OR any word; ts_rank_cd rewards terms that stand close together. The
            # newest CANDIDATES matches are ranked (by the primary key, so the planner can stop early).
            sql = f"""
                WITH q AS (
                    SELECT phraseto_tsquery('english', :words)
                        || replace(plainto_tsquery('english', :words)::text, '&', '|')::tsquery AS query
                ),
                candidates AS (
                    SELECT k.id FROM knowledge k, q
                    WHERE k.search_vector @@ q.query AND {scope_sql}{community_sql}
                    ORDER BY k.id DESC
                    LIMIT :candidates
                )
                SELECT k.escalation_id, k.community, k.question, k.answer, k.answered_by, k.resolved_at, k.data,
                       ts_rank_cd(k.search_vector, q.query, 1) AS score
                FROM candidates c JOIN knowledge k ON k.id = c.id, q
                ORDER BY score DESC, k.resolved_at DESC
                LIMIT :limit
            """  # noqa: S608 - only our own constants are formatted in; user text is bound
        else:
            return await self._search_sqlite(words, scope_sql, community_sql, params)
        rows = (await self.session.execute(text(sql), params)).all()
        return [_hit(row, float(row.score)) for row in rows]

    async def _search_sqlite(
        self, words: list[str], scope_sql: str, community_sql: str, params: dict[str, Any]
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
                WHERE knowledge_fts MATCH :match AND {scope_sql}{community_sql}
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
        rows = (await self.session.execute(text(sql), params)).all()
        return [_hit(row, float(row.score)) for row in rows]

    async def similar(self, question: str, scope: Scope, community: str, limit: int = 3) -> list[KnowledgeHit]:
        """Resolved questions close enough to show before escalating."""
        return close_to(question, await self.related(question, scope, community, limit * SIMILAR_POOL), limit)

    @staticmethod
    def close_to(question: str, hits: list[KnowledgeHit], limit: int = 3) -> list[KnowledgeHit]:
        return close_to(question, hits, limit)

    async def related(
        self, question: str, scope: Scope, community: str, limit: int, *, within: float | None = None
    ) -> list[KnowledgeHit]:
        """The resolved questions sharing any significant word with ``question``, best first.
        One search serves both the deflection (``close_to`` its first hits) and routing by
        expertise (who answered them), so an open costs one search, not two.

        ``within`` (seconds) bounds it: a search that takes longer is abandoned and finds
        nothing, so the caller proceeds without the evidence instead of waiting for it."""
        significant = [w for w in words_of(question) if len(w) > 2 and w not in STOPWORDS]
        if not significant:
            return []
        query = " ".join(significant)
        if within is None:
            return await self.search(query, scope, community=community, limit=limit)
        if self._dialect == "postgresql":
            return await self._bounded_postgres(query, scope, community, limit, within)
        return await self._bounded_sqlite(query, scope, community, limit, within)

    async def _bounded_postgres(
        self, query: str, scope: Scope, community: str, limit: int, within: float
    ) -> list[KnowledgeHit]:
        # The timeout is SET LOCAL inside a savepoint that is always rolled back: the search
        # only reads, and rolling back both ends the timeout and clears a cancelled statement's
        # error from the transaction, so the open goes on in it either way.
        driver = self.direct._driver
        await driver.execute(
            f"SAVEPOINT evidence; SET LOCAL statement_timeout = {max(1, round(within * 1000))}"  # an int of ours
        )
        try:
            return await self.search(query, scope, community=community, limit=limit)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != QUERY_CANCELED:
                raise
            log.warning("knowledge search abandoned after %s ms", round(within * 1000))
            return []
        finally:
            await driver.execute("ROLLBACK TO SAVEPOINT evidence; RELEASE SAVEPOINT evidence")

    async def _bounded_sqlite(
        self, query: str, scope: Scope, community: str, limit: int, within: float
    ) -> list[KnowledgeHit]:
        # SQLite has no statement timeout: a progress handler interrupts the statement once
        # the time is up. An interrupted SELECT leaves the transaction as it was.
        driver = self.direct._driver
        deadline = time.monotonic() + within
        driver.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
        try:
            return await self.search(query, scope, community=community, limit=limit)
        except OperationalError as error:
            if "interrupted" not in str(error.orig):
                raise
            log.warning("knowledge search abandoned after %s ms", round(within * 1000))
            return []
        finally:
            driver.set_progress_handler(None, 0)

    async def count(self) -> int:
        from sqlalchemy import func

        return int((await self.session.execute(select(func.count()).select_from(KnowledgeRow))).scalar_one())
