"""One transaction, and the repositories that work inside it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from .db import create_engine, is_sqlite, sessionmaker
from .knowledge import KnowledgeRepository
from .repositories import (
    AuditRepository,
    DigestRepository,
    EscalationRepository,
    HomeViewRepository,
    InboundRepository,
    MessageRefRepository,
    OutboxRepository,
    RotationRepository,
)


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.escalations = EscalationRepository(session)
        self.messages = MessageRefRepository(session)
        self.outbox = OutboxRepository(session)
        self.inbound = InboundRepository(session)
        self.audit = AuditRepository(session)
        self.rotation = RotationRepository(session)
        self.knowledge = KnowledgeRepository(session)
        self.digests = DigestRepository(session)
        self.home_views = HomeViewRepository(session)


class Store:
    """The database: hands out units of work. Built once by ``bot/``."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine)
        # SQLite has one writer at a time, and every unit of work takes the write lock
        # (BEGIN IMMEDIATE). Queueing for it here, in order, is far cheaper than letting
        # several pooled connections meet SQLite's busy handler, which sleeps and retries.
        self._one_at_a_time = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back on any exception."""
        async with self._one_at_a_time or nullcontext(), self._sessions() as session, session.begin():
            yield UnitOfWork(session)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
