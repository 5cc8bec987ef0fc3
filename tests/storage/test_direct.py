"""The direct path (storage/direct.py): the hot statements sent on the unit of work's driver
connection write exactly what SQLAlchemy would, in the same transaction as SQLAlchemy's own
statements, and refuse what they cannot send faithfully."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, func, insert, select, text
from sqlalchemy.exc import StatementError

from storage import Store
from storage.direct import Prebuilt, Serialized
from storage.tables import InboundEventRow, OutboxRow, UTCDateTime
from tests.conftest import on_postgres

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
EVENTS: Table = InboundEventRow.__table__  # type: ignore[assignment]
INSERT_EVENT = Prebuilt(insert(EVENTS), ["source", "event_id", "received_at"])
# A table of the schema's own column types, with nothing else in the way (no foreign keys).
PROBE = Table(
    "direct_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("data", JSON),
    Column("at", UTCDateTime),
)


@pytest.fixture
async def probe(store: Store) -> AsyncIterator[Table]:
    async with store.engine.begin() as conn:
        await conn.run_sync(PROBE.metadata.create_all)
    yield PROBE
    async with store.engine.begin() as conn:
        await conn.run_sync(PROBE.metadata.drop_all)


async def event_ids(store: Store) -> list[str]:
    async with store.unit_of_work() as uow:
        return list((await uow.session.execute(select(EVENTS.c.event_id).order_by(EVENTS.c.event_id))).scalars())


def probe_row(n: int, data: object) -> dict[str, object]:
    return {"id": n, "name": f"<!channel> {n}", "data": data, "at": NOW + timedelta(hours=n)}


async def test_a_row_written_directly_reads_back_as_one_written_through_sqlalchemy(store: Store, probe: Table) -> None:
    direct_insert = Prebuilt(insert(probe), ["id", "name", "data", "at"])
    values = [
        {"thread": "1.0001", "nested": {"list": [1, 2.5, None, "<!channel> & é"]}},
        None,  # JSON null, as SQLAlchemy writes a None
        {},
    ]
    async with store.unit_of_work() as uow:
        for n, data in enumerate(values):
            await uow.direct.execute(direct_insert, probe_row(n, data))
            await uow.session.execute(insert(probe), [probe_row(n + 10, data)])
    async with store.unit_of_work() as uow:
        rows = (await uow.session.execute(select(probe).order_by(probe.c.id))).mappings().all()
        raw = (await uow.session.execute(text("SELECT data, at FROM direct_probe ORDER BY id"))).all()
    direct, through_sqlalchemy = rows[: len(values)], rows[len(values) :]
    for d, s, data in zip(direct, through_sqlalchemy, values, strict=True):
        assert d["data"] == s["data"] == data
        assert d["name"] == s["name"].replace(str(s["id"]), str(d["id"]))
        assert d["at"] == s["at"] - timedelta(hours=10)
        assert d["at"].tzinfo is not None and d["at"].utcoffset() == timedelta(0)
    # Stored alike too, not only read back alike (SQLite keeps text; PostgreSQL its own types).
    assert [r[0] for r in raw[: len(values)]] == [r[0] for r in raw[len(values) :]]
    assert [type(r[1]) for r in raw[: len(values)]] == [type(r[1]) for r in raw[len(values) :]]


async def test_direct_statements_share_the_unit_of_works_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError, match="refused"):
        async with store.unit_of_work() as uow:
            await uow.direct.execute(INSERT_EVENT, {"source": "t", "event_id": "direct", "received_at": NOW})
            await uow.session.execute(insert(EVENTS).values(source="t", event_id="orm", received_at=NOW))
            # Both are visible inside the transaction, whichever path asks.
            count = select(func.count()).select_from(EVENTS)
            assert (await uow.session.execute(count)).scalar_one() == 2
            assert await uow.direct.scalar(Prebuilt(count), {}) == 2
            raise RuntimeError("refused")
    async with store.unit_of_work() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(EVENTS))).scalar_one() == 0
    commits: list[int] = []
    store.commit_observers.append(lambda: commits.append(1))
    async with store.unit_of_work() as uow:
        await uow.direct.execute(INSERT_EVENT, {"source": "t", "event_id": "direct", "received_at": NOW})
        await uow.session.execute(insert(EVENTS).values(source="t", event_id="orm", received_at=NOW))
    assert commits == [1]
    assert await event_ids(store) == ["direct", "orm"]


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's transaction ids; SQLite has one writer at a time")
async def test_on_postgres_both_paths_run_in_one_server_transaction(store: Store) -> None:
    txid = Prebuilt(select(func.txid_current()))
    async with store.unit_of_work() as uow:
        direct = await uow.direct.scalar(txid, {})
        through_sqlalchemy = (await uow.session.execute(select(func.txid_current()))).scalar_one()
    async with store.unit_of_work() as uow:
        next_one = await uow.direct.scalar(txid, {})
    assert direct == through_sqlalchemy
    assert next_one != direct


async def test_rowcounts_and_missing_rows(store: Store) -> None:
    update = Prebuilt(
        EVENTS.update().where(EVENTS.c.source == bindparam("b_source")).values(received_at=bindparam("b_at"))
    )
    get = Prebuilt(select(EVENTS.c.received_at).where(EVENTS.c.event_id == bindparam("b_id")))
    async with store.unit_of_work() as uow:
        await uow.direct.execute_many(
            INSERT_EVENT, [{"source": "s", "event_id": f"e{n}", "received_at": NOW} for n in range(3)]
        )
        assert await uow.direct.execute(update, {"b_source": "s", "b_at": NOW + timedelta(minutes=1)}) == 3
        assert await uow.direct.execute(update, {"b_source": "nobody", "b_at": NOW}) == 0
        assert await uow.direct.scalar(get, {"b_id": "e1"}) == NOW + timedelta(minutes=1)
        assert await uow.direct.scalar(get, {"b_id": "missing"}) is None
        await uow.direct.execute_many(INSERT_EVENT, [])  # nothing to send


async def test_a_naive_datetime_is_refused_as_through_sqlalchemy(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        async with store.unit_of_work() as uow:
            await uow.direct.execute(
                INSERT_EVENT, {"source": "s", "event_id": "e", "received_at": datetime(2026, 3, 2)}
            )
    with pytest.raises(StatementError, match="naive datetime"):
        async with store.unit_of_work() as uow:
            naive = insert(EVENTS).values(source="s", event_id="e", received_at=datetime(2026, 3, 2))
            await uow.session.execute(naive)


async def test_statements_the_direct_path_cannot_send_faithfully_are_refused(store: Store) -> None:
    outbox: Table = OutboxRow.__table__  # type: ignore[assignment]
    async with store.unit_of_work() as uow:
        # `attempts` has a Python-side default, which SQLAlchemy fills in at execution.
        without_attempts = Prebuilt(insert(outbox), ["escalation_id", "idempotency_key", "kind", "payload"])
        with pytest.raises(TypeError, match="default"):
            await uow.direct.execute(without_attempts, {})
        in_list = Prebuilt(select(EVENTS.c.source).where(EVENTS.c.event_id.in_(bindparam("ids", expanding=True))))
        with pytest.raises(TypeError, match="IN list"):
            await uow.direct.scalar(in_list, {"ids": ["a"]})
        called = Prebuilt(select(EVENTS.c.source).where(EVENTS.c.event_id == bindparam("b_id", callable_=lambda: "x")))
        with pytest.raises(TypeError, match="does not call"):
            await uow.direct.scalar(called, {})
        with pytest.raises(KeyError, match="b_id"):
            await uow.direct.scalar(Prebuilt(select(EVENTS.c.source).where(EVENTS.c.event_id == bindparam("b_id"))), {})


async def test_fixed_values_in_a_statement_are_sent_with_it(store: Store) -> None:
    fixed = Prebuilt(select(func.count()).select_from(EVENTS).where(EVENTS.c.source == "fixed"))
    async with store.unit_of_work() as uow:
        await uow.direct.execute(INSERT_EVENT, {"source": "fixed", "event_id": "a", "received_at": NOW})
        await uow.direct.execute(INSERT_EVENT, {"source": "other", "event_id": "b", "received_at": NOW})
        assert await uow.direct.scalar(fixed, {}) == 1


async def test_the_statements_sent_are_shown_to_observers(store: Store) -> None:
    seen: list[tuple[str, list[object]]] = []
    store.direct_observers.append(lambda sql, args: seen.append((sql, list(args))))
    get = Prebuilt(select(EVENTS.c.source).where(EVENTS.c.event_id == bindparam("b_id")))
    async with store.unit_of_work() as uow:
        await uow.direct.scalar(get, {"b_id": "x"})
    assert len(seen) == 1 and seen[0][0].startswith("SELECT") and seen[0][1] == ["x"]


async def test_a_document_serialized_already_is_written_as_it_is(store: Store, probe: Table) -> None:
    doc = {"question": "Why <!here>?", "n": [1, 2.5, None], "é": True}
    direct_insert = Prebuilt(insert(probe), ["id", "name", "data", "at"])
    async with store.unit_of_work() as uow:
        await uow.direct.execute(direct_insert, {**probe_row(1, None), "data": Serialized(json.dumps(doc))})
        await uow.direct.execute(direct_insert, probe_row(2, doc))
    async with store.unit_of_work() as uow:
        found = (await uow.session.execute(select(probe.c.data).order_by(probe.c.id))).scalars().all()
    assert found == [doc, doc]


@pytest.mark.skipif(not on_postgres(), reason="the driver's own transaction is PostgreSQL's")
async def test_a_transaction_left_open_on_a_pooled_connection_is_ended_before_the_next(database_url: str) -> None:
    store = Store(database_url, pool_size=1, max_overflow=0)
    try:
        async with store.unit_of_work() as uow:
            leaked = uow.connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        await leaked.execute("BEGIN")  # as if a rollback had been cancelled half-way
        await leaked.execute("INSERT INTO inbound_events (source, event_id, received_at) VALUES ('t', 'lost', now())")
        async with store.unit_of_work() as uow:
            assert uow.connection.sync_connection.connection.driver_connection is leaked  # type: ignore[union-attr]
            await uow.direct.execute(INSERT_EVENT, {"source": "t", "event_id": "kept", "received_at": NOW})
        found = await event_ids(store)
    finally:
        await store.close()
    assert found == ["kept"]


@pytest.mark.skipif(not on_postgres(), reason="a statement that waits on the server is PostgreSQL's")
async def test_a_unit_of_work_cancelled_mid_statement_keeps_nothing_and_frees_its_connection(
    database_url: str,
) -> None:
    store = Store(database_url, pool_size=1, max_overflow=0)
    sleep = Prebuilt(select(func.pg_sleep(5)))
    started = asyncio.Event()

    async def slow() -> None:
        async with store.unit_of_work() as uow:
            await uow.direct.execute(INSERT_EVENT, {"source": "t", "event_id": "cancelled", "received_at": NOW})
            started.set()
            await uow.direct.scalar(sleep, {})

    try:
        task = asyncio.create_task(slow())
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(5), store.unit_of_work() as uow:  # the one pooled connection, usable again
            await uow.direct.execute(INSERT_EVENT, {"source": "t", "event_id": "kept", "received_at": NOW})
        found = await event_ids(store)
    finally:
        await store.close()
    assert found == ["kept"]
