"""The database as the command line meets it: reached, checked and migrated, or one line
saying why not. Nothing is left behind by a command that fails (no empty SQLite file)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage import Store
from storage.db import create_engine

from .errors import CliError
from .migrate import check_current, head_revision, upgrade
from .sqlite_lock import sqlite_path


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _cause(exc: BaseException) -> str:
    """The driver's own words, on one line, without SQLAlchemy's background link."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text.split(" (Background on this error at:")[0]


@contextlib.contextmanager
def reaching(url: str) -> Iterator[None]:
    """Turns a database that cannot be reached into one line naming it (without its password)."""
    try:
        yield
    except CommandError as exc:  # Alembic: a revision this release does not know, and the like
        raise CliError(f"cannot migrate the database {safe_url(url)} (DATABASE_URL): {_cause(exc)}") from None
    except (DBAPIError, OSError, TimeoutError) as exc:
        raise CliError(f"cannot reach the database {safe_url(url)} (DATABASE_URL): {_cause(exc)}") from None


async def open_store(url: str) -> Store:
    """A store on a reachable, migrated database, or a clear error. A SQLite file that does not
    exist is not created here: only `migrate` creates the database."""
    database = sqlite_path(url)
    if database is not None and not database.exists():
        raise CliError(f"there is no database at {database} (DATABASE_URL): run `escalation-bot migrate` first")
    store = Store(url)
    try:
        with reaching(url):
            await check_current(store.engine)
    except BaseException:
        await store.close()
        raise
    return store


async def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


async def migrate(url: str) -> str:
    """Bring the database to the newest schema and say what was done."""
    database = sqlite_path(url)
    created = database is not None and not database.exists()
    try:
        with reaching(url):
            before = await revision_of(url)
            await upgrade(url)
    except BaseException:
        if created and database is not None:
            _remove_sqlite(database)
        raise
    head = head_revision()
    if before == head:
        return f"already up to date at revision {head}: {safe_url(url)}"
    if before is None:
        return f"created the schema at revision {head}: {safe_url(url)}"
    return f"upgraded from revision {before} to {head}: {safe_url(url)}"


def _remove_sqlite(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
