"""Housekeeping forgets old event ids, old delivered rows and App Home tabs long unopened, and
nothing else."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.delivery import PermanentDeliveryError
from workflows.effects import Effect, PostCard
from workflows.model import Platform


async def test_old_event_ids_and_delivered_rows_go_escalations_and_failures_stay(
    database_url: str, clock: FakeClock
) -> None:
    def archived(effect: Effect) -> Exception | None:
        if isinstance(effect, PostCard) and "broken" in effect.view.question:
            return PermanentDeliveryError("channel is archived", code="is_archived")
        return None

    sender = RecordingSender(fail=archived)
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        old = await runtime.service.open(requester=SAM, community_key="sdk", question="old", event=("slack", "ev-old"))
        broken = await runtime.service.open(
            requester=SAM, community_key="sdk", question="broken", event=("slack", "ev-b")
        )
        await runtime.dispatch()
        await runtime.service.home_opened(SAM)
        clock.advance(timedelta(days=31))
        await runtime.service.home_opened(ADA)
        new = await runtime.service.open(requester=SAM, community_key="sdk", question="new", event=("slack", "ev-new"))
        await runtime.dispatch()
        async with runtime.store.unit_of_work() as uow:
            before = await uow.outbox.counts()

        assert await runtime.housekeeping() == {"event_ids": 2, "outbox_sent": before["sent"] - 2, "home_views": 1}
        assert await runtime.service.home_in_use(SAM) is None  # 31 days unopened: forgotten
        assert await runtime.service.home_in_use(ADA) is not None

        async with runtime.store.unit_of_work() as uow:
            assert await uow.outbox.counts() == {
                "sent": 2,
                "failed": 1,
            }  # the new card and its confirmation; the failure stays
            for outcome in (old, broken, new):
                assert outcome.escalation is not None
                assert await uow.escalations.get(outcome.escalation.id) is not None
            assert [a.action for a in await uow.audit.for_escalation(old.escalation.id)] == ["opened"]
        # The new event id is still known: a re-delivery of it is still a duplicate.
        await runtime.service.open(requester=SAM, community_key="sdk", question="new", event=("slack", "ev-new"))
        async with runtime.store.unit_of_work() as uow:
            assert len(await uow.escalations.list_by_community("sdk")) == 3
        assert await runtime.housekeeping() == {"event_ids": 0, "outbox_sent": 0, "home_views": 0}
    finally:
        await runtime.stop()
