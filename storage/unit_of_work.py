"""One transaction, and the repositories that work inside it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from .audit import AuditRepository, InboundRepository
from .availability import AbsenceRepository, PersonZoneRepository, RosterMemberRepository
from .db import create_engine, is_sqlite
from .direct import Direct, Observer
from .escalations import EscalationRepository
from .home_views import HomeViewRepository
from .knowledge import KnowledgeRepository
from .message_refs import MessageRefRepository
from .outbox import OutboxRepository
from .pacing import PacingRepository
from .rotation import DigestRepository, RotationRepository
from .user_groups import UserGroupRepository


class UnitOfWork:
    """One transaction on one pooled connection. The hot statements run on its driver
    connection (``direct``, storage/direct.py); the rest through SQLAlchemy's ORM session
    over the same connection and transaction (``session``), made when first asked for."""

    def __init__(self, connection: AsyncConnection, direct: Direct) -> None:
        self.connection = connection
        self.direct = direct
        self._session: AsyncSession | None = None
        self.escalations = EscalationRepository(self)
        self.messages = MessageRefRepository(self)
        self.outbox = OutboxRepository(self)
        self.inbound = InboundRepository(self)
        self.audit = AuditRepository(self)
        self.rotation = RotationRepository(self)
        self.knowledge = KnowledgeRepository(self)
        self.digests = DigestRepository(self)
        self.home_views = HomeViewRepository(self)
        self.absences = AbsenceRepository(self)
        self.roster_members = RosterMemberRepository(self)
        self.person_zones = PersonZoneRepository(self)
        self.user_groups = UserGroupRepository(self)
        self.pacing = PacingRepository(self)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = AsyncSession(bind=self.connection, expire_on_commit=False)
        return self._session

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _driver_of(connection: AsyncConnection) -> Any:
    """The driver's own connection (asyncpg's or sqlite3's) under a checked-out connection:
    ``AsyncConnection.get_raw_connection()`` without its turn through a greenlet."""
    driver = connection.sync_connection.connection.driver_connection if connection.sync_connection else None
    assert driver is not None, "a connection that is checked out has its driver connection"
    return driver


class Store:
    """The database: hands out units of work. Built once by ``bot/``."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, **engine_kwargs)
        self._is_sqlite = is_sqlite(url)
        # Units of work manage PostgreSQL's transaction on the driver connection themselves.
        self._work_engine = (
            self.engine if self._is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # SQLite has one writer at a time, and every unit of work takes the write lock
        # (BEGIN IMMEDIATE). Queueing for it here, in order, is far cheaper than letting
        # several pooled connections meet SQLite's busy handler, which sleeps and retries.
        self._one_at_a_time = asyncio.Lock() if self.is_sqlite else None
        self._dialect = self.engine.sync_engine.dialect
        # Watchers of the statements sent on the direct path (SQLAlchemy's events do not see them).
        self.direct_observers: list[Observer] = []
        # Called after each unit of work commits, on either database (tests count transactions).
        self.commit_observers: list[Callable[[], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self._is_sqlite

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back on any exception."""
        async with self._one_at_a_time or nullcontext(), self._work_engine.connect() as connection:
            driver = _driver_of(connection)
            uow = UnitOfWork(connection, Direct(driver, self._dialect, self.direct_observers))
            transaction: AbstractAsyncContextManager[Any]
            try:
                if self.is_sqlite:
                    # SQLAlchemy's transaction: beginning takes the write lock (BEGIN IMMEDIATE, storage/db.py).
                    transaction = connection.begin()
                else:
                    # The driver's own, so that the statements of the direct path and SQLAlchemy's
                    # share it; SQLAlchemy's connection is in autocommit and begins nothing itself.
                    if driver.is_in_transaction():
                        # Left open by a unit of work cancelled while it rolled back: the pool's
                        # reset cannot see the driver's own transaction, so end it before beginning.
                        await driver.execute("ROLLBACK")
                    transaction = driver.transaction()  # refused at once on a closed connection
                async with transaction:
                    try:
                        yield uow
                    finally:
                        await uow._close()
            except BaseException:
                if not self.is_sqlite and driver.is_closed():
                    # The server closed it (a restart, a fail-over): the pool must not hand it
                    # out again. SQLAlchemy does the same when its own statements meet this.
                    await connection.invalidate()
                raise
            self._committed()

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[UnitOfWork]:
        """Single statements, each committed on its own (PostgreSQL's autocommit): for the
        hottest one-statement writes, which need no BEGIN and COMMIT around them. On SQLite,
        a unit of work (its single writer is taken either way)."""
        if self.is_sqlite:
            async with self.unit_of_work() as uow:
                yield uow
            return
        async with self._work_engine.connect() as connection:
            driver = _driver_of(connection)
            uow = UnitOfWork(connection, Direct(driver, self._dialect, self.direct_observers))
            try:
                if driver.is_in_transaction():
                    await driver.execute("ROLLBACK")
                yield uow
            except BaseException:
                if driver.is_closed():
                    await connection.invalidate()
                raise
            finally:
                await uow._close()

    def _committed(self) -> None:
        for observe in self.commit_observers:
            observe()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
