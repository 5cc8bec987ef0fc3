"""The knowledge base: resolved questions with their answers, searchable by relevance.

One interface, two engines: SQLite FTS5 (porter stemming) on the embedded default,
PostgreSQL full-text search (a stored, weighted ``tsvector`` column with a GIN index) in
production; their statements are in storage/knowledge_search.py, the words they read in
storage/knowledge_words.py. The full-text structures are created by the migrations for
each dialect; the table itself is an ordinary model.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from workflows.model import Escalation
from workflows.ports import Scope

from .direct import Repository, Work
from .knowledge_search import CANDIDATES, RECENT, KnowledgeHit, search_postgres, search_sqlite
from .knowledge_words import STOPWORDS, words_of
from .question_words import FULL_TEXT_OBJECTS as QUESTION_WORDS
from .tables import Base, BigId

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"
# SQLite: how many virtual machine steps between two looks at the clock during a bounded search.
PROGRESS_STEPS = 1000

log = logging.getLogger(__name__)

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
    def __init__(self, work: Work, candidates: int = CANDIDATES, recent: int = RECENT) -> None:
        super().__init__(work)
        self.candidates = candidates
        self.recent = recent

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
        params: dict[str, Any] = {
            "platform": scope.platform,
            "tenant": scope.tenant,
            "limit": limit,
            "candidates": self.candidates,
            "recent": self.recent,
        }
        community_sql = ""
        if community:
            community_sql = " AND k.community = :community"
            params["community"] = community
        if self._dialect == "postgresql":
            return await search_postgres(self.session, words, community_sql, params)
        return await search_sqlite(self.session, words, community_sql, params)

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
        return int((await self.session.execute(select(func.count()).select_from(KnowledgeRow))).scalar_one())
