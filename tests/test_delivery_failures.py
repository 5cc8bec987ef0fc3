"""A message that cannot be delivered is kept, and people hear of it another way."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from storage import Store
from tests.support import SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.delivery import PermanentDeliveryError, TransientDeliveryError
from workflows.effects import Effect, Notify, PostCard, ThreadReply
from workflows.model import Platform


async def test_an_archived_channel_tells_the_requester_and_the_lead(database_url: str, clock: FakeClock) -> None:
    def archived(effect: Effect) -> Exception | None:
        if isinstance(effect, PostCard):
            return PermanentDeliveryError("channel is archived", code="is_archived")
        return None

    sender = RecordingSender(fail=archived)
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
        assert esc is not None
        await runtime.dispatch()
        told = {(e.person.id, e.notice.value): e.text for _, e in sender.delivered if isinstance(e, Notify)}
        # Plain words: the error code is for the admin (audit, logs, `outbox list`), not people.
        assert told[("U0SAM", "delivery_failed")] == (
            "Your question could not be posted in the Mobile SDK channel on Slack. The community's lead has been told."
        )
        assert "is_archived" not in told[("U0LEE", "delivery_failed")]
        assert "escalation-bot outbox" in told[("U0LEE", "delivery_failed")]
        async with runtime.store.unit_of_work() as uow:
            counts = await uow.outbox.counts()
            trail = [a.action for a in await uow.audit.for_escalation(esc.id)]
        # The reports (requester, lead), and the requester's confirmation: this test sender posts
        # it regardless; Slack's says nothing when no card was posted (tests/slack/test_story.py).
        assert counts == {"failed": 1, "sent": 3}
        assert trail == ["opened", "delivery_failed"]
    finally:
        await runtime.stop()


async def test_an_unreachable_assignee_is_called_in_the_thread(database_url: str, clock: FakeClock) -> None:
    def deactivated(effect: Effect) -> Exception | None:
        if isinstance(effect, Notify) and effect.person.id == "U0ADA":
            return PermanentDeliveryError("account is inactive", code="account_inactive")
        return None

    sender = RecordingSender(fail=deactivated)
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
        assert esc is not None
        clock.advance(timedelta(hours=2))
        await runtime.sweep()  # nudge, then assign to Ada
        await runtime.dispatch()
        await runtime.dispatch()  # the failure report is itself delivered
        replies = [e for _, e in sender.delivered if isinstance(e, ThreadReply) and e.notice.value == "delivery_failed"]
        assert len(replies) == 1
        assert [m.id for m in replies[0].mentions] == ["U0ADA"]
        ada = "slack:U0ADA"  # no name in this directory: the adapter shows the mention
        assert (
            replies[0].text == f"I could not reach {ada} privately to hand them this question; {ada}, please look here."
        )
        assert ("U0LEE", "delivery_failed") in sender.notices()
    finally:
        await runtime.stop()


async def test_a_failing_failure_report_does_not_loop(database_url: str, clock: FakeClock) -> None:
    sender = RecordingSender(fail=lambda e: PermanentDeliveryError("gone", code="channel_not_found"))
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        await runtime.service.open(requester=SAM, community_key="sdk", question="q")
        for _ in range(3):
            await runtime.dispatch()
        async with runtime.store.unit_of_work() as uow:
            counts = await uow.outbox.counts()
        # The card and the requester's confirmation, then the two reports of each (requester,
        # lead); their failures stop there.
        assert counts == {"failed": 6}
    finally:
        await runtime.stop()


async def test_retries_give_up_after_the_limit_and_are_then_reported(database_url: str, clock: FakeClock) -> None:
    attempts = 0

    def flaky(effect: Effect) -> Exception | None:
        nonlocal attempts
        if isinstance(effect, PostCard):
            attempts += 1
            return TransientDeliveryError("bad gateway", code="http_502")
        return None

    sender = RecordingSender(fail=flaky)
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    runtime.dispatcher.max_attempts = 3
    try:
        await runtime.service.open(requester=SAM, community_key="sdk", question="q")
        for _ in range(4):
            await runtime.dispatch()
            clock.advance(timedelta(minutes=10))  # past any backoff
        assert attempts == 3
        assert ("U0LEE", "delivery_failed") in sender.notices()
        async with runtime.store.unit_of_work() as uow:
            failed = await uow.outbox.list("failed")
        assert "gave up after 3 attempts: http_502" in (failed[0].last_error or "")
    finally:
        await runtime.stop()


async def test_a_failure_fixed_by_a_retry_is_not_reported_late(database_url: str, clock: FakeClock) -> None:
    """The card and the notices about it all failed (the platform was misconfigured); the admin
    fixes it and retries everything: the card goes out, the stale notices do not."""
    refused = PermanentDeliveryError("service URL not on TEAMS_SERVICE_URL_ALLOWLIST", code="service_url_not_allowed")
    broken = RecordingSender(fail=lambda effect: refused)
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: broken}, clock=clock)
    try:
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
        assert esc is not None
        await runtime.dispatch()
        async with runtime.store.unit_of_work() as uow:
            # The card and Sam's confirmation; the notices about each (to Sam or the thread, and the lead).
            assert await uow.outbox.counts() == {"failed": 6}
            assert await uow.outbox.retry_failed(clock.now()) == 6
        healed = RecordingSender()
        runtime.dispatcher.senders[Platform.slack] = healed
        await runtime.dispatch()
        assert healed.kinds() == ["post_card", "notify"]
        assert healed.notices() == [("U0SAM", "posted")]  # the confirmation, not the stale notices
        async with runtime.store.unit_of_work() as uow:
            assert await uow.outbox.counts() == {"sent": 6}
    finally:
        await runtime.stop()
