"""Pacing keeps each conversation within its platform's limits, without relying on 429s."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import timedelta

from bot.pacing import PLATFORM_LIMITS, Pacer
from bot.runtime import Runtime
from storage import Store
from tests.support import SAM, directory
from workflows.clock import FakeClock
from workflows.delivery import Delivered, DeliveryContext, TransientDeliveryError
from workflows.effects import Effect, PostCard, effect_target
from workflows.model import MessageRef, Platform


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slack_allows_one_message_per_second_per_channel() -> None:
    now = FakeTime()
    pacer = Pacer(clock=now, margin=0)
    assert pacer.delay(Platform.slack, "C1") == 0
    pacer.record(Platform.slack, "C1")
    assert pacer.delay(Platform.slack, "C1") == 1.0
    assert pacer.delay(Platform.slack, "C2") == 0  # another channel is independent
    now.now += 0.4
    assert abs(pacer.delay(Platform.slack, "C1") - 0.6) < 1e-9


def test_teams_keeps_both_the_per_second_and_the_per_30_second_window() -> None:
    now = FakeTime()
    pacer = Pacer(clock=now, margin=0)
    state = pacer._target(Platform.teams, "conv")
    for _ in range(7):
        state.sent.append(now.now)
    assert pacer.delay(Platform.teams, "conv") == 1.0  # 7 per second
    # 60 sends spread over 10 seconds: the 30-second window is now the binding one.
    state.sent.clear()
    for n in range(60):
        state.sent.append(now.now - 10 + n / 6)
    assert abs(pacer.delay(Platform.teams, "conv") - 20.0) < 1e-9
    assert PLATFORM_LIMITS[Platform.teams] == ((1.0, 7), (30.0, 60))


def test_a_small_margin_keeps_clock_skew_from_tripping_the_limit() -> None:
    now = FakeTime()
    pacer = Pacer(clock=now)  # default margin: 3% of each window
    pacer.record(Platform.slack, "C1")
    assert abs(pacer.delay(Platform.slack, "C1") - 1.03) < 1e-9


def test_back_off_blocks_a_target_for_the_time_asked() -> None:
    now = FakeTime()
    pacer = Pacer(clock=now, margin=0)
    pacer.back_off(Platform.slack, "C1", 7)
    assert pacer.delay(Platform.slack, "C1") == 7
    assert pacer.delay(Platform.slack, "C2") == 0


class StrictChannel:
    """A fake platform that answers 'ratelimited' when two messages come too close."""

    platform = Platform.slack

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self.times: dict[str, list[float]] = defaultdict(list)
        self.rejected = 0
        self.count = 0

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        _, target = effect_target(effect)
        now = time.monotonic()
        seen = self.times[target]
        if seen and now - seen[-1] < self.spacing * 0.95:
            self.rejected += 1
            raise TransientDeliveryError("ratelimited", code="ratelimited", retry_after=self.spacing)
        seen.append(now)
        self.count += 1
        if isinstance(effect, PostCard):
            return Delivered(
                refs=[("card", MessageRef(platform=Platform.slack, channel=target, id=str(self.count)), None)]
            )
        return Delivered()


async def test_a_burst_to_one_channel_is_paced_with_no_rate_limit_errors(database_url: str, clock: FakeClock) -> None:
    spacing = 0.02  # the Slack rule scaled down 50x so the test takes seconds
    channel = StrictChannel(spacing)
    pacer = Pacer({Platform.slack: ((spacing, 1),)})
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: channel}, clock=clock, pacer=pacer)
    try:
        for n in range(50):
            await runtime.service.open(requester=SAM, community_key="sdk", question=f"q{n}")
        started = time.monotonic()
        await runtime.dispatch()
        elapsed = time.monotonic() - started
        assert channel.rejected == 0
        assert channel.count == 100  # 50 cards, and 50 confirmations to their requester
        assert elapsed >= 49 * spacing * 0.95  # it really was spread out
        clock.advance(timedelta(minutes=30))  # and 50 nudges in the threads, again paced
        await runtime.sweep()
        await runtime.dispatch()
        assert channel.rejected == 0
        async with runtime.store.unit_of_work() as uow:
            # 50 cards, 50 confirmations, 50 card updates, 50 nudges
            assert (await uow.outbox.counts()) == {"sent": 200}
    finally:
        await runtime.stop()


class LaggingChannel(StrictChannel):
    """Every other message is held up on its way for ``lag`` seconds before it arrives (and is
    counted); after arriving, the sender spends ``follow_up`` seconds on calls elsewhere (as the
    Slack sender asks for a permalink), telling the dispatcher when it arrived."""

    def __init__(self, spacing: float, lag: float, follow_up: float) -> None:
        super().__init__(spacing)
        self.lag = lag
        self.follow_up = follow_up

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        if self.count % 2:
            await asyncio.sleep(self.lag)
        delivered = await super().deliver(effect, context)
        context.arrived()
        await asyncio.sleep(self.follow_up)
        return delivered


async def test_pacing_counts_arrivals_so_a_held_up_request_causes_no_rate_limit_error(
    database_url: str, clock: FakeClock
) -> None:
    spacing, lag, follow_up, n = 0.1, 0.04, 0.08, 20
    channel = LaggingChannel(spacing, lag, follow_up)
    pacer = Pacer({Platform.slack: ((spacing, 1),)})
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: channel}, clock=clock, pacer=pacer)
    try:
        for i in range(n):
            # Each from another person: their confirmations go to n DMs at once, not one paced DM.
            requester = SAM.model_copy(update={"id": f"U0R{i:03d}"})
            await runtime.service.open(requester=requester, community_key="sdk", question=f"q{i}")
        started = time.monotonic()
        await runtime.dispatch()
        elapsed = time.monotonic() - started
        # Counting starts, a late arrival followed by a prompt one would come too close.
        assert channel.rejected == 0 and channel.count == 2 * n  # the cards, and their confirmations
        # Counting from the arrival, not the end of the delivery: the follow-up calls overlap the
        # wait for the next turn (counted from the end, it would take n x (spacing + lag/2 + follow_up)).
        assert elapsed < n * (spacing + lag / 2 + follow_up) * 0.85, elapsed
    finally:
        await runtime.stop()
