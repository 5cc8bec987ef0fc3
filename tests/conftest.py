"""Shared fixtures.

The database is SQLite (a temporary file per test) unless TEST_DATABASE_URL names a
PostgreSQL server; then each pytest process works in a database of its own, created
at the start and dropped at the end, and every test starts from empty tables.

The async tests run on the standard library's event loop unless TEST_EVENT_LOOP=uvloop,
which runs them all on uvloop, the loop `serve` uses by default (bot/eventloop.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import eventloop
from bot.eventloop import LoopFactory
from bot.migrate import upgrade
from storage import Store
from storage.db import normalize_url
from storage.tables import Base
from workflows.clock import FakeClock

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TEST_EVENT_LOOP = os.environ.get("TEST_EVENT_LOOP", "").strip() or "asyncio"
# The platforms' published manifest schemas, copied from ../shared/schemas.
SCHEMAS = Path(__file__).resolve().parent / "schemas"


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(normalize_url(url))
    conn = await asyncpg.connect(
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


if TEST_EVENT_LOOP != "asyncio":  # by default, pytest-asyncio's own loop; the hook would replace it

    def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, LoopFactory]:
        """Every async test on the loop TEST_EVENT_LOOP names."""
        if TEST_EVENT_LOOP != "uvloop":
            raise pytest.UsageError(f"TEST_EVENT_LOOP must be asyncio or uvloop, not {TEST_EVENT_LOOP!r}")
        try:
            return {TEST_EVENT_LOOP: eventloop.loop_factory(TEST_EVENT_LOOP)}
        except eventloop.LoopUnavailable as exc:
            raise pytest.UsageError(f"TEST_EVENT_LOOP={TEST_EVENT_LOOP}: {exc}") from None


def pytest_report_header(config: pytest.Config) -> str:
    return f"event loop: {TEST_EVENT_LOOP}; database: {'PostgreSQL' if TEST_DATABASE_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A private PostgreSQL database for this pytest process, migrated once."""
    if not TEST_DATABASE_URL:
        yield None
        return
    name = f"eb_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(TEST_DATABASE_URL)).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(_admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(postgres_url: str | None, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: PostgreSQL when configured, else a SQLite file."""
    if postgres_url:
        store = Store(postgres_url)
        tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
        async with store.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await store.close()
        yield postgres_url
        return
    url = f"sqlite:///{tmp_path / 'test.db'}"
    await upgrade(url)
    yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(database_url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI, run in-process, installs its own log handler; put pytest's back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday
