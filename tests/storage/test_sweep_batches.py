"""Timer steps run many to a transaction; one escalation that fails must not hold back the rest."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.runtime import Runtime
from storage import Store
from storage.tables import EscalationRow
from tests.support import SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.model import Platform


@pytest.fixture
def runtime(store: Store, clock: FakeClock) -> Runtime:
    return Runtime(store, directory(), {Platform.slack: RecordingSender()}, clock=clock, holder="test")


async def _open(runtime: Runtime, n: int) -> list[str]:
    ids = []
    for i in range(n):
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question=f"q{i}")).escalation
        assert esc is not None
        ids.append(esc.id)
    return ids


async def _trail(store: Store, ids: list[str]) -> dict[str, list[str]]:
    async with store.unit_of_work() as uow:
        return {i: [a.action for a in await uow.audit.for_escalation(i)] for i in ids}


async def test_many_due_steps_run_in_batches_each_exactly_once(
    runtime: Runtime, store: Store, clock: FakeClock
) -> None:
    ids = await _open(runtime, 23)
    committed: list[str] = []
    runtime.service.on_commit(lambda esc, decision: committed.append(esc.id))
    clock.advance(timedelta(minutes=31))
    assert await runtime.service.sweep(holder="test", batch=5) == 23
    assert await runtime.service.sweep(holder="test", batch=5) == 0
    assert all(actions == ["opened", "nudged"] for actions in (await _trail(store, ids)).values())
    # Every committed step told its listeners (the dispatcher's wake-up), once each.
    assert sorted(committed) == sorted(ids)
    async with store.unit_of_work() as uow:
        leased = (await uow.session.execute(select(EscalationRow.lease_owner))).scalars().all()
        queued = Counter(row.kind for row in await uow.outbox.list(limit=1000))
    assert set(leased) == {None}  # saved steps give their lease back
    # Opening: a card and the requester's confirmation; each nudge: a reply, a card update.
    assert queued == {"post_card": 23, "notify": 23, "thread_reply": 23, "update_card": 23}


async def test_assignments_in_one_batch_still_rotate(runtime: Runtime, clock: FakeClock) -> None:
    ids = await _open(runtime, 6)
    clock.advance(timedelta(hours=2, minutes=1))  # nudge and assign both due
    assert await runtime.service.sweep(holder="test", batch=50) == 12
    owners = []
    for esc_id in ids:
        esc = await runtime.service.get(esc_id, None)
        assert esc is not None and esc.owner is not None
        owners.append(esc.owner.person.id)
    # The roster read inside the batch sees the assignments made earlier in the same batch.
    assert Counter(owners) == {"U0ADA": 2, "U0BEN": 2, "U0CHEN": 2}


async def test_an_unreadable_escalation_does_not_hold_back_the_other_timers(
    runtime: Runtime, store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await _open(runtime, 12)
    broken = ids[3]
    async with store.unit_of_work() as uow:
        await uow.session.execute(update(EscalationRow).where(EscalationRow.id == broken).values(data={"bad": 1}))
    clock.advance(timedelta(minutes=31))
    with caplog.at_level(logging.INFO, logger="escalation_bot.service"):
        assert await runtime.service.sweep(holder="test", batch=5) == 11
    trail = await _trail(store, ids)
    assert trail.pop(broken) == ["opened"]
    assert all(actions == ["opened", "nudged"] for actions in trail.values())
    failed = [r for r in caplog.records if r.getMessage().startswith("timer step failed")]
    assert [getattr(r, "escalation_id", None) for r in failed] == [broken]
    # It stays leased, so the next sweeps skip it until the lease runs out; then it is tried again.
    caplog.clear()
    assert await runtime.service.sweep(holder="test", batch=5) == 0
    assert not [r for r in caplog.records if r.getMessage().startswith("timer step failed")]
    clock.advance(timedelta(seconds=61))
    with caplog.at_level(logging.INFO, logger="escalation_bot.service"):
        assert await runtime.service.sweep(holder="test", batch=5) == 0
    assert [r for r in caplog.records if r.getMessage().startswith("timer step failed")]


async def test_when_every_step_of_a_batch_fails_the_sweep_stops_with_the_error(
    runtime: Runtime, store: Store, clock: FakeClock
) -> None:
    ids = await _open(runtime, 3)
    async with store.unit_of_work() as uow:
        await uow.session.execute(update(EscalationRow).where(EscalationRow.id.in_(ids)).values(data={"bad": 1}))
    clock.advance(timedelta(minutes=31))
    with pytest.raises(ValueError, match="validation error"):
        await runtime.service.sweep(holder="test", batch=5)
