"""A Slack-wired runtime for fault tests: the real app, a fake Web API, short client timeouts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackPlatform
from bot.app import build_app
from bot.config import parse_config
from bot.runtime import Runtime
from storage import Store
from tests.slack.conftest import CONFIG, SECRET
from tests.slack.fake_slack import FakeSlack
from workflows.clock import FakeClock
from workflows.model import Platform


class Harness:
    def __init__(self, runtime: Runtime, platform: SlackPlatform, client: TestClient[Any, Any]) -> None:
        self.runtime = runtime
        self.platform = platform
        self.client = client

    async def close(self) -> None:
        await self.client.close()


async def slack_runtime(store: Store, clock: FakeClock, fake: FakeSlack, *, api_timeout: float = 0.25) -> Harness:
    """Retries fast (simulated time), the client gives up on a hung call after ``api_timeout`` s,
    and no inline 429 retry: every failure goes through the outbox's own retry."""
    runtime = Runtime(store, parse_config(CONFIG, "slack-test.yaml"), {}, clock=clock, holder="faults")
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=api_timeout))
    platform = SlackPlatform(
        service=runtime.service,
        clock=clock,
        bot_token="xoxb-test-token",
        signing_secret=SECRET,
        api_url=fake.api_url,
        session=session,
        inline_retry_max_wait=0,
    )
    runtime.dispatcher.senders[Platform.slack] = platform.sender
    dispatcher = runtime.dispatcher
    dispatcher.base_backoff = 0.01
    dispatcher.max_backoff = 0.05
    dispatcher.max_attempts = 60  # a storm must never exhaust a row: these tests are about retries
    app = build_app(runtime, mounts=[platform.mount], start_jobs=False)

    async def close_platform(_: Any) -> None:
        await platform.close()

    app.on_cleanup.append(close_platform)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return Harness(runtime, platform, client)


async def drain(runtime: Runtime, clock: FakeClock, rounds: int = 300) -> None:
    """Dispatch until nothing is pending, letting simulated time pass for the back-offs."""
    counts: dict[str, int] = {}
    for _ in range(rounds):
        await runtime.dispatch()
        async with runtime.store.unit_of_work() as uow:
            counts = await uow.outbox.counts()
        if not counts.get("pending"):
            return
        clock.advance(timedelta(seconds=1))
    raise AssertionError(f"outbox not drained: {counts}")
