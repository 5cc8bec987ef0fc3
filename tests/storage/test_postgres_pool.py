"""PostgreSQL's pool: a connection closed by the server while it sat idle is found by a ping
and replaced; one that breaks while in use fails once, and the next unit of work starts afresh."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

import storage.db
from storage import Store
from tests.conftest import on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="the pool's ping is PostgreSQL's (TEST_DATABASE_URL); SQLite has no server to lose",
)


async def backend_pid(store: Store) -> int:
    async with store.unit_of_work() as uow:
        return int((await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate(store: Store, pid: int) -> None:
    async with store.unit_of_work() as uow:
        await uow.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_closed_while_idle_is_pinged_and_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "POSTGRES_PING_AFTER_IDLE_S", 0.2)
    store = Store(database_url, pool_size=1, max_overflow=0)
    admin = Store(database_url)
    try:
        first = await backend_pid(store)
        await terminate(admin, first)  # a server restart, or a proxy's idle timeout
        await asyncio.sleep(0.3)
        second = await backend_pid(store)
    finally:
        await store.close()
        await admin.close()
    assert second != first


async def test_a_connection_that_breaks_within_the_window_fails_once_then_the_pool_starts_afresh(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "POSTGRES_PING_AFTER_IDLE_S", 60.0)
    store = Store(database_url, pool_size=2, max_overflow=0)
    admin = Store(database_url)
    try:
        first = await backend_pid(store)
        await terminate(admin, first)
        await asyncio.sleep(0.1)
        with pytest.raises(Exception, match=r"(?i)connection|terminat|closed"):
            await backend_pid(store)
        second = await backend_pid(store)
    finally:
        await store.close()
        await admin.close()
    assert second != first


async def test_a_busy_pool_does_not_ping(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Units of work back to back reuse their connection without a round trip of their own."""
    monkeypatch.setattr(storage.db, "POSTGRES_PING_AFTER_IDLE_S", 60.0)
    store = Store(database_url, pool_size=1, max_overflow=0)
    pings = 0
    dialect = store.engine.sync_engine.dialect
    real_ping = dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        nonlocal pings
        pings += 1
        return bool(real_ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counting_ping)
    try:
        for _ in range(20):
            await backend_pid(store)
        monkeypatch.setattr(storage.db, "POSTGRES_PING_AFTER_IDLE_S", 0.05)
        await asyncio.sleep(0.1)
        await backend_pid(store)
    finally:
        await store.close()
    assert pings == 1
