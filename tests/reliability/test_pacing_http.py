"""A burst of 50 nudges to one channel, through the real senders, against fakes that
enforce the platforms' per-channel limits at the HTTP boundary: not one 429.

The limits are scaled down (Slack 10x, Teams 20x) to keep the tests in seconds; the pacer
is given the same scaled limits, so what is proven is the pacing, not the constants (those
are pinned in tests/test_pacing.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.pacing import Pacer
from storage import Store
from tests.slack.fake_slack import FakeSlack
from tests.teams.conftest import CHANNEL, TENANT, Teams, make_teams
from tests.teams.fakes import FakeConnector, FakeLogin
from workflows.clock import FakeClock
from workflows.model import PersonRef, Platform

from .harness import drain, slack_runtime

BURST = 50


async def test_slack_a_burst_of_50_nudges_to_one_channel_gets_no_429(
    store: Store, clock: FakeClock, fake: FakeSlack
) -> None:
    spacing = 0.1  # Slack's one chat.postMessage per second per channel, 10x faster
    harness = await slack_runtime(store, clock, fake, api_timeout=5.0)
    runtime = harness.runtime
    runtime.dispatcher.pacer = Pacer({Platform.slack: ((spacing, 1),)})
    sam = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
    try:
        for n in range(BURST):
            await runtime.service.open(requester=sam, community_key="sdk", question=f"question {n}")
        await drain(runtime, clock)  # the cards, already paced
        fake.enforce_rate(spacing)
        clock.advance(timedelta(minutes=31))
        assert await runtime.sweep() == BURST
        await drain(runtime, clock)
        nudges = [c for c in fake.calls if c.method == "chat.postMessage" and c.args.get("thread_ts")]
        assert len([c for c in nudges if c.status == 200]) == BURST
        assert [c for c in fake.calls if c.status == 429] == []
    finally:
        await harness.close()


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector):
        yield harness


async def test_teams_a_burst_of_50_nudges_to_one_channel_gets_no_429(
    teams: Teams, clock: FakeClock, connector: FakeConnector
) -> None:
    # Teams' 7 per second and 60 per 30 seconds per conversation, 20x faster. Cards, card
    # updates and thread replies all count against the channel: 150 calls cross both windows.
    limits = ((1.0 / 20, 7), (30.0 / 20, 60))
    runtime = teams.runtime
    runtime.dispatcher.pacer = Pacer({Platform.teams: limits})
    connector.enforce_rate(limits)
    await teams.install()
    sam = PersonRef(platform=Platform.teams, id="29:sam", tenant=TENANT)
    for n in range(BURST):
        await runtime.service.open(requester=sam, community_key="sdk", question=f"question {n}")
    await drain(runtime, clock)
    clock.advance(timedelta(minutes=31))
    assert await runtime.sweep() == BURST
    await drain(runtime, clock)
    in_channel = [c for c in connector.calls if (c.conversation or "").startswith(CHANNEL)]
    assert len([c for c in in_channel if c.kind == "send"]) == BURST  # the nudges
    assert len(in_channel) >= 2 * BURST + BURST  # cards, updates and nudges all went through
    assert connector.throttled == 0
