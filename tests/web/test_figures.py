"""The console's figures, counted from each escalation's columns (storage/figures.py), are
the report's, counted from the documents (metrics.compute), on a story with every kind of
ending and hand-over, on this test run's database; and the migration that added these
columns (0019) fills them in rows written before it from their documents, in batches."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Text, column, insert, select, table, update
from sqlalchemy.engine import make_url

from bench.common import _admin
from bench.growth import Capture
from bot.migrate import alembic_config, upgrade
from bot.report import HANDED_ACTIONS
from storage import Store
from storage.db import normalize_url
from storage.escalations import _row_values
from storage.figures import FACT_COLUMNS, SELECTED, facts_of_row
from storage.tables import EscalationRow
from workflows.clock import FakeClock
from workflows.commands import Assign, Cancel, Claim, Decline, Reassign, Reopen, Reply, Resolve
from workflows.console import Reach
from workflows.metrics import AuditEvent, compute, count, fact_of, needs_document
from workflows.model import Escalation, Status
from workflows.overview import first_response_by_expert, overview
from workflows.ports import Scope

from .conftest import ACME, ADA, BEN, CONFIG, LEE, SAM, Console, console_config, make_console, person

# Business hours for sdk, and Ada's own (another zone): durations in business time differ
# from wall time, and hand-overs the rotation did not qualify are judged by these hours.
HOURS = CONFIG.replace(
    "policy: {nudge_after: 30m, assign_after: 2h, deflection_wait: off}",
    "policy: {nudge_after: 30m, assign_after: 2h, deflection_wait: off,"
    ' business_hours: {timezone: UTC, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}',
).replace("{name: Ada, slack: U0ADA,", '{name: Ada, slack: U0ADA, timezone: Asia/Tokyo, hours: "09:00-17:30",')
assert HOURS.count("business_hours") == 1 and "Asia/Tokyo" in HOURS


@pytest.fixture
async def web(store: Store, clock: FakeClock) -> AsyncIterator[Console]:
    async for harness in make_console(store, clock, console_config(), bot_config=HOURS):
        yield harness


ADMIN_REACH = Reach(scope=Scope("slack", ACME))
COMMUNITIES = ["billing", "globex", "sdk"]
BILL1 = person("U0BILL1", name="Bill")


async def story(web: Console) -> None:
    """Weeks of answered questions, then three weeks of everything else: the rotation's
    hand-overs (with whether they were out of hours), a lead's and a colleague's (without),
    declines, cancels, a requester answering themselves, reopenings, and questions still open."""
    await web.weeks_of_history(5)
    svc, end = web.runtime.service, web.clock.now()
    web.clock.set(end - timedelta(days=21))
    for n in range(9):
        community = "billing" if n % 3 == 2 else "sdk"
        esc = await web.open(SAM, community, f"Story question {n}: the token refresh fails")
        web.clock.advance(timedelta(hours=3))
        await web.runtime.sweep()  # past assign_after: the rotation hands it to someone
        await web.runtime.dispatch()
        c = f"s{n}"
        if n % 9 == 0:
            await svc.handle(Assign(id=f"{c}a", escalation_id=esc.id, actor=LEE, assignee=BEN))
            await svc.handle(Decline(id=f"{c}d", escalation_id=esc.id, actor=BEN, reason="busy"))
        elif n % 9 == 1:
            await svc.handle(Cancel(id=f"{c}c", escalation_id=esc.id, actor=SAM, reason="found it"))
        elif n % 9 == 2:
            await svc.handle(Reply(id=f"{c}r", escalation_id=esc.id, actor=BILL1, text="Looking"))
            web.clock.advance(timedelta(hours=20))
            await svc.handle(Resolve(id=f"{c}s", escalation_id=esc.id, actor=BILL1, answer="Rotate the key."))
        elif n % 9 == 3:
            await svc.handle(Resolve(id=f"{c}s", escalation_id=esc.id, actor=SAM, answer="Fixed it myself."))
        elif n % 9 == 4:
            await svc.handle(Claim(id=f"{c}k", escalation_id=esc.id, actor=ADA))
            await svc.handle(Reassign(id=f"{c}g", escalation_id=esc.id, actor=ADA, to=BEN))
            web.clock.advance(timedelta(days=2))
            await svc.handle(Resolve(id=f"{c}s", escalation_id=esc.id, actor=BEN, answer="Upgrade."))
            web.clock.advance(timedelta(days=1))
            await svc.handle(Reopen(id=f"{c}o", escalation_id=esc.id, actor=SAM, reason="again"))
            await svc.handle(Resolve(id=f"{c}t", escalation_id=esc.id, actor=ADA, answer="Clear the cache."))
        elif n % 9 == 5:
            await svc.handle(Reply(id=f"{c}r", escalation_id=esc.id, actor=ADA, text="Which version?"))
        web.clock.advance(timedelta(days=2, hours=1))
        await web.runtime.dispatch()
    web.clock.set(end)


async def documents(web: Console) -> list[Escalation]:
    async with web.runtime.store.unit_of_work() as uow:
        rows = (await uow.session.execute(select(EscalationRow.data.cast(Text)))).scalars()
        return [Escalation.model_validate_json(d) for d in rows]


async def handed(web: Console, since: datetime, until: datetime) -> list[AuditEvent]:
    async with web.runtime.store.unit_of_work() as uow:
        rows = await uow.audit.between(since, until, HANDED_ACTIONS)
    return [AuditEvent(r.escalation_id, r.at, r.action, r.actor, dict(r.detail or {})) for r in rows]


def touched(docs: list[Escalation], since: datetime, until: datetime) -> list[Escalation]:
    """What compute counts anything of: opened, or resolved / deflected / cancelled, in the window."""

    def closed(e: Escalation) -> datetime | None:
        return e.resolved_at if e.status == Status.resolved else None if e.status == Status.open else e.updated_at

    return [e for e in docs if since <= e.created_at < until or ((c := closed(e)) is not None and since <= c < until)]


async def test_the_console_counts_from_columns_what_the_report_counts_from_documents(web: Console) -> None:
    await story(web)
    now, docs = web.clock.now(), await documents(web)
    statuses = {e.status for e in docs}
    assert {Status.open, Status.resolved, Status.cancelled} <= statuses
    crossing = 0  # opened in the first half of the period and closed in the second, or still open
    for days in (7, 21, 28, 56):
        since = now - timedelta(days=days)
        history = await web.console.queries.history(ADMIN_REACH, since, now, COMMUNITIES)
        expected = touched(docs, since, now)
        assert {f.id: f for f in history.facts} == {e.id: fact_of(e) for e in expected}
        assert len(history.facts) == len(expected)  # each once, though PostgreSQL reads two halves
        middle = since + (now - since) / 2
        crossing += sum(1 for e in expected if e.created_at < middle <= (fact_of(e).closed_at or now))
        events = await handed(web, since, now)
        report = compute(expected, events, since, now)
        counted = count(history.facts, history.events, since, now, history.documents)
        assert counted.as_dict() == report.as_dict()
        assert first_response_by_expert(history.facts, since, now) == first_response_by_expert(
            [fact_of(e) for e in expected], since, now
        )
    assert crossing
    # The story has what makes the rule subtle: hand-overs, some without the rotation's word
    # on the hours (their document is read), answers by the requester (no answerer).
    assert report.total.cancelled and report.total.resolved and report.total.reassignments
    assert sum(e.handed for e in report.experts.values()) >= 5
    assert any(needs_document(e) for e in history.events) and history.documents
    assert any(not needs_document(e) for e in history.events if e.action == "auto_assigned")
    assert any(e.resolved_by is not None and e.requester.same(e.resolved_by) for e in docs)
    sdk = report.communities["sdk"].as_dict()["time_to_resolution"]
    assert isinstance(sdk, dict) and sdk["p90_business_s"] != sdk["p90_s"]
    assert sum(e.out_of_hours for e in report.experts.values()) >= 1


async def test_the_overview_weeks_are_the_report_of_each_week(web: Console) -> None:
    await story(web)
    now, docs = web.clock.now(), await documents(web)
    since = now - timedelta(days=28)
    history = await web.console.queries.history(ADMIN_REACH, since - timedelta(days=28), now, COMMUNITIES)
    view = overview([], history, since, now)
    assert len(view.weeks) == 8
    for week in view.weeks:
        expected = compute(
            touched(docs, week.since, week.until), await handed(web, week.since, week.until), week.since, week.until
        )
        assert week.as_dict() == expected.as_dict()
    assert sum(week.total.opened for week in view.weeks) == view.current.total.opened + view.previous.total.opened
    assert (
        view.current.as_dict()
        == compute(touched(docs, since, now), await handed(web, since, now), since, now).as_dict()
    )


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
MIGRATION: Any = importlib.import_module("migrations.versions.0019_escalation_facts")


@pytest.fixture
async def fresh_url(tmp_path: Path) -> AsyncIterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'before-facts.db'}"
        return
    name = f"eb_fig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalize_url(TEST_DATABASE_URL)).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def columns_read_as_facts(store: Store, docs: list[Escalation]) -> None:
    async with store.unit_of_work() as uow:
        found = {f.id: f for f in map(facts_of_row, (await uow.session.execute(select(*SELECTED))).all())}
    assert found == {e.id: fact_of(e) for e in docs}


async def test_the_migration_fills_the_columns_of_rows_written_before(web: Console, fresh_url: str) -> None:
    await story(web)
    docs = await documents(web)
    assert len(docs) > 20
    await upgrade(fresh_url, MIGRATION.down_revision)
    old = Store(fresh_url)
    try:
        # The escalations table before the migration, and rows as the code before it wrote them.
        columns = [column(c.name, c.type) for c in EscalationRow.__table__.c if c.name not in FACT_COLUMNS]
        rows = [
            {c.name: {"id": e.id, **_row_values(e), "data": e.model_dump(mode="json")}[c.name] for c in columns}
            for e in docs
        ]
        async with old.engine.begin() as conn:
            await conn.execute(insert(table("escalations", *columns)), rows)
    finally:
        await old.close()
    await upgrade(fresh_url)
    new = Store(fresh_url)
    try:
        await columns_read_as_facts(new, docs)
    finally:
        await new.close()


async def test_the_backfill_goes_in_batches_over_every_row(web: Console) -> None:
    await story(web)
    docs = await documents(web)
    store = web.runtime.store
    async with store.engine.begin() as conn:
        await conn.execute(update(EscalationRow).values({name: None for name in FACT_COLUMNS}))
    async with store.engine.begin() as conn:
        done = await conn.run_sync(lambda sync: MIGRATION.backfill(sync, batch=4))
    assert done == len(docs)
    await columns_read_as_facts(store, docs)


async def test_the_window_reads_two_index_ranges_and_probes_the_scopes_per_row(web: Console) -> None:
    """The statement behind both pages: ranges of (community, created_at) (or (created_at,
    id)) and (community, closed_at), and the tenant check a lookup in pk_escalation_scopes per row, never a join
    that reads all the scopes (PostgreSQL flattens a plain EXISTS into one). PostgreSQL
    chooses by size, so sequential scans are off here: what is checked is that the indexes
    serve the statement and that the check stays a per-row subplan."""
    await story(web)
    store, now = web.runtime.store, web.clock.now()
    capture = Capture(store)
    capture.on = True
    await web.console.queries.history(ADMIN_REACH, now - timedelta(days=28), now, COMMUNITIES)
    capture.on = False
    windows = [(s, p) for s, p in capture.statements.items() if "closed_at >=" in s]
    postgres = store.engine.dialect.name == "postgresql"
    # PostgreSQL reads the window as two halves at once; SQLite in one statement.
    assert len(windows) == (2 if postgres else 1), windows
    for statement, parameters in windows:
        async with store.engine.connect() as conn:
            if postgres:
                await conn.exec_driver_sql("SET enable_seqscan = off")
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            rows = (await conn.exec_driver_sql(prefix + statement, parameters)).fetchall()
        plan = "\n".join(str(r[0]) if postgres else str(r[-1]) for r in rows)
        # Opened in the window: (community, created_at), or (created_at, id) when every community is asked for.
        assert re.search(r"ix_escalations_(community_)?created\b", plan), plan
        assert "ix_escalations_community_closed" in plan, plan
        if postgres:
            assert "SubPlan" in plan and "pk_escalation_scopes" in plan and "Seq Scan" not in plan, plan
            assert "Join" not in plan, plan
        else:
            assert "CORRELATED" in plan and "escalation_scopes USING" in plan and "SCAN escalations" not in plan, plan


async def test_the_migration_goes_down_in_place_and_up_again(fresh_url: str) -> None:
    """Down drops the columns and the index in place: on SQLite a copy of the table would
    lose the triggers an earlier migration keeps on it (the question's words)."""
    await upgrade(fresh_url)

    def shape(sync: Any) -> tuple[set[str], set[str]]:
        from sqlalchemy import inspect

        found = inspect(sync)
        columns = {c["name"] for c in found.get_columns("escalations")}
        if sync.dialect.name != "sqlite":
            return columns, set()
        rows = sync.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").all()
        return columns, {r[0] for r in rows}

    store = Store(fresh_url)
    try:
        async with store.engine.connect() as conn:
            columns, triggers = await conn.run_sync(shape)
        assert set(FACT_COLUMNS) <= columns
        await asyncio.to_thread(command.downgrade, alembic_config(fresh_url), MIGRATION.down_revision)
        await store.engine.dispose()
        async with store.engine.connect() as conn:
            down, triggers_down = await conn.run_sync(shape)
        assert not set(FACT_COLUMNS) & down and down == columns - set(FACT_COLUMNS)
        assert triggers_down == triggers
        await upgrade(fresh_url)
        await store.engine.dispose()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(shape) == (columns, triggers)
    finally:
        await store.close()
