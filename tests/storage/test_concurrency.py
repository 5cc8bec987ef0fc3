"""Several sweepers over one database, and a restart with work pending."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from bot.runtime import Runtime
from storage import Store
from storage.tables import AuditRow
from tests.conftest import on_postgres
from tests.support import SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.commands import Open
from workflows.decide import decide
from workflows.model import Platform


async def _seed(store: Store, clock: FakeClock, count: int) -> list[str]:
    """Open ``count`` escalations directly through decide() and the repositories, fast."""
    community = directory().get("sdk")
    ids = []
    async with store.unit_of_work() as uow:
        for n in range(count):
            command = Open(
                id=f"open-{n}",
                escalation_id=f"esc-{n:05d}",
                actor=SAM,
                tenant="slack:T0ACME",
                community_key="sdk",
                question=f"question {n}",
                community=community,
            )
            esc = decide(None, command, clock.now()).escalation
            await uow.escalations.add(esc)
            ids.append(esc.id)
    return ids


async def test_parallel_sweepers_run_each_due_step_exactly_once(database_url: str, clock: FakeClock) -> None:
    count = 2000 if on_postgres() else 300
    seed_store = Store(database_url)
    await _seed(seed_store, clock, count)
    await seed_store.close()
    clock.advance(timedelta(minutes=31))  # every nudge is now due

    stores = [Store(database_url) for _ in range(3)]
    runtimes = [
        Runtime(s, directory(), {Platform.slack: RecordingSender()}, clock=clock, holder=f"sweeper-{i}")
        for i, s in enumerate(stores)
    ]
    try:
        executed = await asyncio.gather(*(r.sweep() for r in runtimes))
        assert sum(executed) == count
        assert all(n > 0 for n in executed) or not on_postgres()  # the work really was shared
        async with stores[0].unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    select(AuditRow.escalation_id, func.count())
                    .where(AuditRow.action == "nudged")
                    .group_by(AuditRow.escalation_id)
                )
            ).all()
        per_escalation = Counter(dict(rows))
        assert len(per_escalation) == count
        assert set(per_escalation.values()) == {1}
        # A second round finds nothing left to do.
        assert sum(await asyncio.gather(*(r.sweep() for r in runtimes))) == 0
    finally:
        for s in stores:
            await s.close()


async def test_restart_fires_pending_timers_and_delivers_undelivered_rows_once(
    database_url: str, clock: FakeClock
) -> None:
    first_sender = RecordingSender()
    first = Runtime(Store(database_url), directory(), {Platform.slack: first_sender}, clock=clock, holder="first")
    ids = []
    for n in range(5):
        esc = (await first.service.open(requester=SAM, community_key="sdk", question=f"q{n}")).escalation
        assert esc is not None
        ids.append(esc.id)
    # Deliver some of the outbox, then the process "crashes" holding a lease on one row.
    async with first.store.unit_of_work() as uow:
        leased = await uow.outbox.claim(clock.now(), 1, "first", timedelta(minutes=2))
    assert len(leased) == 1
    await first.store.close()  # stopped: nothing more from the first process

    clock.advance(timedelta(minutes=45))  # nudges fell due while nobody was running
    second_sender = RecordingSender()
    second = Runtime(Store(database_url), directory(), {Platform.slack: second_sender}, clock=clock, holder="second")
    try:
        assert await second.sweep() == 5
        await second.dispatch()
        keys = [k for k, _ in second_sender.delivered]
        assert len(keys) == len(set(keys))  # nothing sent twice
        async with second.store.unit_of_work() as uow:
            counts = await uow.outbox.counts()
            nudges = await uow.audit.count(action="nudged")
        assert nudges == 5
        assert counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0
        assert sorted({e.escalation_id for _, e in second_sender.delivered}) == sorted(ids)
        # Every card was posted exactly once (the leased one too, after its lease ran out).
        posted = Counter(e.escalation_id for _, e in second_sender.delivered if e.kind == "post_card")
        assert posted == dict.fromkeys(ids, 1)
        # A second pass sends nothing more.
        assert await second.dispatch() == 0
    finally:
        await second.store.close()
