"""The SQLite driver: statements run on the event loop's thread, and a wait for another
process's write lock never holds the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

import storage.db
from bot.migrate import upgrade
from storage import Store
from storage.db import normalize_url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'inline.db'}"
    await upgrade(url)
    return url


@pytest.mark.parametrize("spelling", ["sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"])
def test_every_sqlite_spelling_takes_the_inline_driver(spelling: str) -> None:
    assert normalize_url(f"{spelling}:///x.db") == "sqlite+inline:///x.db"


async def test_statements_run_on_the_event_loops_thread(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    seen: list[int] = []

    try:
        async with store.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection.create_function("which_thread", 0, lambda: seen.append(threading.get_ident()) or 1)
            await conn.execute(text("SELECT which_thread()"))
        async with store.unit_of_work() as uow:
            assert await uow.outbox.list("pending", limit=10) == []
    finally:
        await store.close()
    assert seen == [threading.get_ident()]


async def test_a_unit_of_work_waits_for_another_process_lock_without_holding_the_loop(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing: SQLite's one write lock is taken
    store = Store(sqlite_url)
    ticks = 0
    loop_stalls: list[float] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            loop_stalls.append(time.perf_counter() - before - 0.01)
            ticks += 1

    async def write() -> None:
        async with store.unit_of_work() as uow:
            await uow.session.execute(text("DELETE FROM inbound_events WHERE 1 = 0"))

    beat = asyncio.create_task(ticker())
    try:
        writer = asyncio.create_task(write())
        await asyncio.sleep(0.5)
        assert not writer.done(), "the unit of work did not wait for the lock"
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 5)
    finally:
        beat.cancel()
        other.close()
        await store.close()
    assert ticks >= 25, f"the loop turned only {ticks} times in 0.5 s while the lock was held"
    # SQLite's own busy handler is kept short; nothing held the loop for longer than that and a turn.
    assert max(loop_stalls) < 0.2, f"the loop was held for {max(loop_stalls):.3f} s"


async def test_a_lock_never_released_ends_in_an_error_after_the_patience(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "SQLITE_LOCK_PATIENCE_S", 0.3)
    path = sqlite_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store = Store(sqlite_url)
    started = time.perf_counter()
    try:
        with pytest.raises(Exception, match="locked"):
            async with store.unit_of_work() as uow:
                await uow.session.execute(text("SELECT 1"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    waited = time.perf_counter() - started
    try:
        # The store is still usable once the lock is free.
        async with store.unit_of_work() as uow:
            assert (await uow.session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await store.close()
    assert 0.3 <= waited < 2.0
