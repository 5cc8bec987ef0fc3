"""Pacing across replicas: a channel's limit belongs to the channel, not to the process.

Slack: two real `serve` processes on PostgreSQL take `/escalate` commands in turn for one
expert channel; from the fake Slack's own record, no two cards reach the channel less than
a second apart (Slack's one message per second per channel), every card arrives once, and
both replicas posted there. Each process alone paced itself, so before the shared pacing
(bot/pacing.py, ``SharedPacer``) the two together posted up to twice as fast.

Teams: two dispatchers, each with its own pacer as two replicas have, deliver a burst of 150
messages to one channel through the real Teams sender; the fake Bot Connector enforces
Teams' per-conversation windows (scaled 20x) and refuses none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import aiohttp
import pytest

from bot.dispatcher import Dispatcher
from bot.pacing import SharedPacer
from storage import Store
from tests.conftest import on_postgres
from tests.slack.fake_slack import FakeSlack
from tests.teams.conftest import CHANNEL, TENANT, Teams, make_teams
from tests.teams.fakes import FakeConnector, FakeLogin
from workflows.clock import FakeClock
from workflows.model import PersonRef, Platform

from .harness import drain
from .ledger import assert_exactly_once_in_order, outbox_rows
from .processes import escalate_form, post_command, serve

EXPERTS = "C0PACE0001"
COMMANDS = 16


def one_channel_config() -> str:
    return (
        "defaults:\n"
        '  policy: {nudge_after: 30m, assign_after: 4h, deflection_wait: "off", digest_at: "off"}\n'
        "communities:\n"
        "  - key: pace\n"
        "    name: Pacing\n"
        f"    slack: {{channel: {EXPERTS}}}\n"
        '    experts: ["slack:U0ADA", "slack:U0BEN"]\n'
    )


@pytest.mark.skipif(not on_postgres(), reason="several replicas need PostgreSQL (TEST_DATABASE_URL)")
async def test_slack_two_replicas_never_post_to_one_channel_faster_than_once_a_second(
    database_url: str, store: Store, fake: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(one_channel_config())
    replicas = [
        serve(name, tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)
        for name in ("replica-a", "replica-b")
    ]
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        async with aiohttp.ClientSession() as http:
            for n in range(COMMANDS):  # in turn to each replica, faster than the channel takes them
                body = escalate_form(f"U0R{n:04d}", f"pace question {n}", fake.response_url(f"c{n}"), f"trigger.{n}")
                assert await post_command(http, replicas[n % 2].port, body) == 200
                await asyncio.sleep(0.2)

        deadline = time.monotonic() + 60
        while True:
            async with store.unit_of_work() as uow:
                counts = await uow.outbox.counts()
            if counts.get("pending", 0) == 0 and counts.get("sent", 0) >= 2 * COMMANDS:
                break
            assert time.monotonic() < deadline, counts
            await asyncio.sleep(0.25)
    finally:
        codes = await asyncio.gather(*(r.stop() for r in replicas))
    assert codes == [0, 0], [r.log()[-2000:] for r in replicas]

    rows = await outbox_rows(store)
    assert_exactly_once_in_order(fake, rows)
    cards = [r for r in rows if r.kind == "post_card"]
    assert {r.lease_owner for r in cards} == {"replica-a", "replica-b"}  # both posted in the channel
    arrivals = [c.at for c in fake.calls if c.method == "chat.postMessage" and c.args.get("channel") == EXPERTS]
    assert len(arrivals) == COMMANDS
    gaps = [round(b - a, 3) for a, b in pairwise(arrivals)]
    assert min(gaps) >= 1.0, gaps
    for replica in replicas:
        assert "Traceback" not in replica.log(), replica.log()[-3000:]


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector):
        yield harness


async def test_teams_two_replicas_keep_one_channel_within_its_windows(
    teams: Teams, store: Store, clock: FakeClock, connector: FakeConnector
) -> None:
    # Teams' 7 per second and 60 per 30 seconds per conversation, 20x faster.
    limits = {Platform.teams: ((1.0 / 20, 7), (30.0 / 20, 60))}
    runtime = teams.runtime
    first = runtime.dispatcher
    first.pacer = SharedPacer(store, first.holder, limits)
    second = Dispatcher(store, first.senders, clock, holder="replica-b", pacer=SharedPacer(store, "replica-b", limits))
    first.batch = second.batch = 10  # small claims, so that both replicas take part
    connector.enforce_rate(limits[Platform.teams])
    await teams.install()
    sam = PersonRef(platform=Platform.teams, id="29:sam", tenant=TENANT)
    for n in range(50):
        await runtime.service.open(requester=sam, community_key="sdk", question=f"question {n}")
    await drain(runtime, clock)  # the cards, by one replica
    clock.advance(timedelta(minutes=31))
    assert await runtime.sweep() == 50  # 50 nudges and 50 card updates, both replicas at once
    for _ in range(200):
        await asyncio.gather(first.run_once(), second.run_once())
        async with store.unit_of_work() as uow:
            if not (await uow.outbox.counts()).get("pending"):
                break
        clock.advance(timedelta(seconds=1))
    rows = await outbox_rows(store)
    assert {r.status for r in rows} == {"sent"}
    later = [r for r in rows if r.kind in ("thread_reply", "update_card")]
    assert {r.lease_owner for r in later} == {first.holder, "replica-b"}
    in_channel = [c for c in connector.calls if (c.conversation or "").startswith(CHANNEL)]
    assert len(in_channel) >= 150
    assert connector.throttled == 0
