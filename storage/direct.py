"""The hot statements, run on the unit of work's own driver connection.

Every command writes through a handful of prebuilt Core statements (the escalation, its
scopes, its outbox and audit rows, the event id) and, on a card, reads one. Through
SQLAlchemy's asyncio layer each statement costs two to three times what the driver itself
spends on it: a greenlet switch into and out of every call, the DBAPI adaptor's cursor, the
execution context and the result machinery (bench/HISTORY.md, ninth pass). These statements
are compiled by SQLAlchemy once per dialect, their parameters converted by the columns' own
bind processors (so a value is written exactly as SQLAlchemy would write it), and then sent
straight to asyncpg or sqlite3 on the connection the unit of work already holds, inside its
transaction. Everything else keeps going through SQLAlchemy.

Statements that SQLAlchemy would complete at execution time (an ``IN`` list to expand, a
Python-side column default or a callable parameter to evaluate) are refused when compiled:
the direct path sends exactly what it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any]
# Who watches the statements sent directly: (sql, parameters) for each (tests count reads).
Observer = Callable[[str, Sequence[Any]], None]


class Work(Protocol):
    """What a repository works in: a unit of work (``storage.unit_of_work.UnitOfWork``)."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def direct(self) -> Direct: ...


class Repository:
    """Works inside one unit of work: its hot statements on the direct path, the rest through
    SQLAlchemy's session (made on first use)."""

    def __init__(self, work: Work) -> None:
        self._work = work

    @property
    def session(self) -> AsyncSession:
        return self._work.session

    @property
    def direct(self) -> Direct:
        return self._work.direct

    @property
    def _postgres(self) -> bool:
        return self._work.direct.postgres


class Serialized(str):
    """A JSON document serialized already (pydantic's ``model_dump_json``, about a third of the
    CPU of ``model_dump`` and ``json.dumps``): a JSON column on the direct path takes it as it
    is. Through SQLAlchemy it would be written as a JSON string, so pass it here only."""


def _passing_serialized(process: Processor) -> Processor:
    def bind(value: Any) -> Any:
        return value if isinstance(value, Serialized) else process(value)

    return bind


@dataclass(frozen=True)
class Compiled:
    """A statement as one dialect's driver takes it."""

    sql: str
    # Per positional parameter: the name to take from the caller's parameters (None for a
    # value fixed in the statement), that fixed value, and the column type's bind processor.
    slots: tuple[tuple[str | None, Any, Processor | None], ...]
    # The result processor of the first selected column, if the statement selects.
    result: Processor | None

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, fixed, process in self.slots:
            value = fixed if name is None else params[name]
            out.append(process(value) if process is not None else value)
        return out


class Prebuilt:
    """A Core statement, compiled once per dialect for the direct path.

    ``columns`` names the columns an ``INSERT`` gives values for (as SQLAlchemy's
    ``column_keys``); other statements take their parameters from their bind parameters.
    """

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement, self.columns, dialect)
        return found


def _compile(statement: ClauseElement, columns: list[str] | None, dialect: Dialect) -> Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    assert isinstance(compiled, SQLCompiler)
    if compiled.positiontup is None:
        raise TypeError(f"the direct path needs a positional paramstyle, not {dialect.paramstyle}")
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise TypeError(f"a Python-side column default would be skipped by the direct path: {compiled}")
    slots: list[tuple[str | None, Any, Processor | None]] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding:
            raise TypeError(f"the direct path cannot expand {name!r} (an IN list): {compiled}")
        if bind.callable is not None:
            raise TypeError(f"the direct path does not call {name!r} for its value: {compiled}")
        process: Processor | None = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and isinstance(bind.type, JSON):
            process = _passing_serialized(process)
        if bind.required:
            slots.append((bind.key, None, process))
        else:
            slots.append((None, bind.effective_value, process))
    result: Processor | None = None
    selected = getattr(statement, "selected_columns", None)
    if selected is not None and len(selected):
        column_type = next(iter(selected)).type
        result = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return Compiled(str(compiled), tuple(slots), result)


class Direct:
    """The direct path of one unit of work: its driver connection (asyncpg's or sqlite3's),
    inside the transaction the store has begun on it."""

    def __init__(self, driver: Any, dialect: Dialect, observers: Iterable[Observer] = ()) -> None:
        self.dialect = dialect
        self.postgres = dialect.name == "postgresql"
        self._driver = driver
        self._observers = tuple(observers)

    def _prepared(self, statement: Prebuilt, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The statement's SQL and arguments, shown to the observers before they are sent."""
        compiled = statement.compiled(self.dialect)
        args = compiled.args(params)
        for observe in self._observers:
            observe(compiled.sql, args)
        return compiled.sql, args

    async def execute(self, statement: Prebuilt, params: Mapping[str, Any]) -> int:
        """Runs one statement; the number of rows it touched."""
        sql, args = self._prepared(statement, params)
        if self.postgres:
            status: str = await self._driver.execute(sql, *args)
            # asyncpg answers with the command tag: "INSERT 0 1", "UPDATE 1", "DELETE 0".
            return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
        return int(self._driver.execute(sql, args).rowcount)

    async def execute_many(self, statement: Prebuilt, rows: Sequence[Mapping[str, Any]]) -> None:
        """Runs one statement for each of ``rows`` (one round trip on PostgreSQL)."""
        if not rows:
            return
        sql, first = self._prepared(statement, rows[0])
        compiled = statement.compiled(self.dialect)
        many = [first, *(compiled.args(row) for row in rows[1:])]
        if not self.postgres:
            self._driver.executemany(sql, many)
        elif len(many) == 1:
            await self._driver.execute(sql, *first)
        else:
            await self._driver.executemany(sql, many)

    async def scalar(self, statement: Prebuilt, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None when there is no row."""
        sql, args = self._prepared(statement, params)
        if self.postgres:
            row = await self._driver.fetchrow(sql, *args)
        else:
            row = self._driver.execute(sql, args).fetchone()
        if row is None:
            return None
        result = statement.compiled(self.dialect).result
        return result(row[0]) if result is not None else row[0]
