"""Delivered effects are marked sent by group commit: together when they finish together,
each on its own when one of them cannot be written."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.marks import SentMarks
from bot.runtime import Runtime
from storage import Store
from storage.tables import OutboxRow
from tests.support import SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.delivery import Delivered
from workflows.model import MessageRef, Platform


async def _claimed(runtime: Runtime, n: int, holder: str) -> list[OutboxRow]:
    for i in range(n):
        await runtime.service.open(requester=SAM, community_key="sdk", question=f"q{i}")
    async with runtime.store.unit_of_work() as uow:
        return await uow.outbox.claim(runtime.clock.now(), 100, holder, timedelta(minutes=2))


def _commits(store: Store) -> list[int]:
    seen: list[int] = []
    store.commit_observers.append(lambda: seen.append(1))
    return seen


async def test_deliveries_that_finish_together_are_marked_in_few_transactions(
    database_url: str, clock: FakeClock
) -> None:
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock, holder="h")
    try:
        for i in range(30):
            await runtime.service.open(requester=SAM, community_key="sdk", question=f"q{i}")
        commits = _commits(runtime.store)
        assert await runtime.dispatch() == 60  # 30 cards, then 30 confirmations to the requester
        async with runtime.store.unit_of_work() as uow:
            counts = await uow.outbox.counts()
            cards = [await uow.messages.for_escalation(e.escalation_id, "card") for e in sender_effects(sender)]
        assert counts == {"sent": 60}
        assert all(len(found) == 1 for found in cards)  # each card's reference was kept with its mark
        # One per delivery before; now the claim, then a handful of group commits.
        assert len(commits) < 15, len(commits)
    finally:
        await runtime.stop()


def sender_effects(sender: RecordingSender) -> list[Any]:
    return [effect for _, effect in sender.delivered]


async def test_a_mark_that_cannot_be_written_fails_alone(database_url: str, clock: FakeClock) -> None:
    runtime = Runtime(Store(database_url), directory(), {}, clock=clock, holder="h")
    try:
        rows = await _claimed(runtime, 3, "h")
        marks = SentMarks(runtime.store, "h")
        ref = MessageRef(platform=Platform.slack, channel="C0SDK0001", id="1.0001")
        unwritable = Delivered(refs=[("card", ref, {"not json": object()})])
        results = await asyncio.gather(
            marks.mark(rows[0], Delivered(), clock.now()),
            marks.mark(rows[1], unwritable, clock.now()),
            marks.mark(rows[2], Delivered(), clock.now()),
            return_exceptions=True,
        )
        assert results[0] is True and results[2] is True
        assert isinstance(results[1], Exception)
        async with runtime.store.unit_of_work() as uow:
            status = {row.id: row.status for row in await uow.outbox.list()}
        assert [status[row.id] for row in rows] == ["sent", "pending", "sent"]
    finally:
        await runtime.stop()


async def test_a_row_whose_lease_was_taken_over_is_not_marked(database_url: str, clock: FakeClock) -> None:
    runtime = Runtime(Store(database_url), directory(), {}, clock=clock, holder="h")
    try:
        (row,) = await _claimed(runtime, 1, "someone-else")
        assert await SentMarks(runtime.store, "h").mark(row, Delivered(), clock.now()) is False
        async with runtime.store.unit_of_work() as uow:
            assert await uow.outbox.counts() == {"pending": 2}  # the card, and its confirmation behind it
    finally:
        await runtime.stop()


@pytest.mark.parametrize("most", [1, 2])
async def test_a_long_queue_is_written_in_slices(database_url: str, clock: FakeClock, most: int) -> None:
    runtime = Runtime(Store(database_url), directory(), {}, clock=clock, holder="h")
    try:
        rows = await _claimed(runtime, 5, "h")
        marks = SentMarks(runtime.store, "h", most=most)
        assert await asyncio.gather(*(marks.mark(row, Delivered(), clock.now()) for row in rows)) == [True] * 5
        async with runtime.store.unit_of_work() as uow:
            assert await uow.outbox.counts() == {"sent": 5, "pending": 5}  # the confirmations wait behind
    finally:
        await runtime.stop()


async def test_a_caller_cancelled_while_marks_are_written_strands_no_mark(database_url: str, clock: FakeClock) -> None:
    """The first caller used to do the writing for everyone queued behind it: cancelling it
    (a shutdown, a timeout around it) left the others waiting forever and their rows leased,
    so they were sent again when the lease ran out."""
    runtime = Runtime(Store(database_url), directory(), {}, clock=clock, holder="h")
    try:
        rows = await _claimed(runtime, 4, "h")
        marks = SentMarks(runtime.store, "h")
        first = asyncio.create_task(marks.mark(rows[0], Delivered(), clock.now()))
        await asyncio.sleep(0)  # the first caller has started the writing
        others = [asyncio.create_task(marks.mark(row, Delivered(), clock.now())) for row in rows[1:]]
        await asyncio.sleep(0)
        first.cancel()
        assert await asyncio.wait_for(asyncio.gather(*others), timeout=10) == [True] * 3
        async with runtime.store.unit_of_work() as uow:
            # The cancelled caller's mark too (the confirmations wait behind the cards).
            assert await uow.outbox.counts() == {"sent": 4, "pending": 4}
    finally:
        await runtime.stop()
