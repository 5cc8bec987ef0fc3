"""SQLite for the asyncio engine without a thread per connection.

aiosqlite runs every statement on a thread of its own and hands the result back through
the event loop: two context switches and a wait in the loop's queue per statement. Under
load that wait is the cost, and it is paid while the unit of work holds SQLite's one
write lock, so every other unit of work queues behind it. A statement of ours takes
microseconds in SQLite itself (WAL, ``synchronous=NORMAL``: a commit does not fsync), so
this dialect runs the standard library's ``sqlite3`` directly on the loop's thread,
inside the greenlet that SQLAlchemy's asyncio layer already gives every call. The one
wait that is long, for another process's write lock, is spent in ``asyncio.sleep`` instead
of SQLite's busy handler (see ``begin_immediate``), so the loop is never held by it.

URL: ``sqlite+inline:///path.db`` (``storage.db.normalize_url`` maps every SQLite spelling
to it).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_, in_greenlet

DRIVER = "inline"


async def _nothing() -> None:
    return None


class _Cursor(sqlite3.Cursor):
    # SQLAlchemy's AsyncConnection.execute insists that a statement passed through the event
    # loop at least once (to catch a sync driver by mistake); a coroutine that is done at once
    # satisfies it for the price of two greenlet switches, with no turn of the loop.
    def execute(self, *args: Any) -> Any:
        if in_greenlet():
            await_(_nothing())
        return super().execute(*args)

    def executemany(self, *args: Any) -> Any:
        if in_greenlet():
            await_(_nothing())
        return super().executemany(*args)

    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's asyncio layer calls on a finished result: nothing is left to fetch
        from a thread, so nothing to do."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    """pysqlite, declared async: the asyncio engine accepts it and runs each call in a greenlet
    that simply never has to wait."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        return super().connect(*cargs, factory=_Connection, **cparams)

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool


def begin_immediate(dbapi_connection: Any, patience_s: float) -> None:
    """``BEGIN IMMEDIATE``, waiting for another process's write lock without holding the loop.

    Called inside SQLAlchemy's greenlet, so ``await_`` may suspend it on the event loop.
    SQLite's own busy handler would sleep on the loop's thread instead.
    """
    deadline = time.monotonic() + patience_s
    pause = 0.001
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            # The primary result code (the low byte of the extended one) says "someone else has it".
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            if time.monotonic() >= deadline:
                raise
        await_(asyncio.sleep(pause))
        pause = min(pause * 2, 0.05)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inline")
