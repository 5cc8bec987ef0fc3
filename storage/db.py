"""Engine set-up: SQLite (embedded default, WAL, one writer at a time) or PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .knowledge_words import idf
from .sqlite_inline import DRIVER as SQLITE_DRIVER
from .sqlite_inline import begin_immediate

# How long a unit of work waits for another process's write lock (in asyncio.sleep).
SQLITE_LOCK_PATIENCE_S = 15.0
# SQLite's own busy handler sleeps on the event loop's thread: it is kept short, for the
# rare statement other than BEGIN that meets a lock (a reader during a checkpoint).
SQLITE_BUSY_TIMEOUT_MS = 20
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used.
POSTGRES_PING_AFTER_IDLE_S = 2.0


def normalize_url(url: str) -> str:
    """Accept the plain driver names people write and pick the async driver."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"):
        parsed = parsed.set(drivername=f"sqlite+{SQLITE_DRIVER}")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it has been idle for a while.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip that cost about 0.3
    ms of CPU per unit of work here, a quarter to 40% of a one-statement transaction
    (bench/HISTORY.md, fourth pass), and several units of work serve each request. A
    connection returned moments ago was just talking to the server; one idle for longer may
    have been closed by a restart, a fail-over or a proxy's idle timeout, and is the one
    worth checking. A connection that breaks within the window fails its statement, and
    SQLAlchemy then discards it and every other connection of the pool, so the next unit of
    work starts afresh.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < POSTGRES_PING_AFTER_IDLE_S:
            return
        try:
            engine.sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so that we can make it IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("eb_idf", 2, idf, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Take the write lock up front: a read-then-write transaction can then never
        # fail half-way with "database is locked", and it serialises like FOR UPDATE.
        begin_immediate(conn.connection.dbapi_connection, SQLITE_LOCK_PATIENCE_S)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
