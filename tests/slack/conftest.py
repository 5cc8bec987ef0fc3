"""The Slack harness: the real aiohttp app, signed requests, a fake Web API, a fake clock."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackPlatform
from bot.app import build_app
from bot.config import parse_config
from bot.runtime import Runtime
from storage import Store
from workflows.clock import FakeClock
from workflows.model import Escalation, Platform

from .fake_slack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PAYLOADS = Path(__file__).parent / "payloads"
CHANNEL = "C0SDK0001"

CONFIG = """
defaults:
  policy: {nudge_after: 30m, assign_after: 2h, owner_reminder_after: 4h, reassign_after: 1d,
           requester_reminder_after: 1d}
people:
  - {name: Ada, slack: U0ADA}
  - {name: Ben, slack: U0BEN}
  - {name: Chen, slack: U0CHEN}
  - {name: Lee, slack: U0LEE}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
    lead: "slack:U0LEE"
    policy:
      claim_reactions: [eyes, raising_hand]
      resolve_reactions: [white_check_mark]
      digest_when_empty: true
  - key: billing
    name: Billing
    slack: {channel: C0BILL001}
    experts: ["slack:U0BILL1"]
"""


def payload(name: str, **values: Any) -> Any:
    """A canned payload from ``payloads/``, with ``{{key}}`` placeholders filled in."""
    data = json.loads((PAYLOADS / f"{name}.json").read_text())

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, str):
            whole = re.fullmatch(r"\{\{(\w+)\}\}", node)
            if whole:
                return values.get(whole.group(1), "")
            return re.sub(r"\{\{(\w+)\}\}", lambda m: str(values.get(m.group(1), "")), node)
        return node

    return fill(data)


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Exactly as Slack signs: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass
class SlackHarness:
    client: TestClient[Any, Any]
    fake: FakeSlack
    runtime: Runtime
    platform: SlackPlatform
    clock: FakeClock
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):05d}"

    # ------------------------------------------------------------ sending signed requests

    async def post(
        self, body: str, content_type: str, *, headers: dict[str, str] | None = None, signed: bool = True
    ) -> Reply:
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        response = await self.client.post("/slack/events", data=body.encode(), headers=all_headers)
        return Reply(response.status, await response.text())

    async def command(self, text: str, *, user: str = "U0SAM", user_name: str = "sam") -> Reply:
        form = payload(
            "slash_command",
            user=user,
            user_name=user_name,
            text=text,
            response_url=self.fake.response_url("command"),
            trigger_id=self.next_id("trigger."),
        )
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def interactive(self, data: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        body = urlencode({"payload": json.dumps(data)})
        return await self.post(body, "application/x-www-form-urlencoded", headers=headers)

    async def action(
        self,
        action: dict[str, Any],
        *,
        user: str,
        channel: str = CHANNEL,
        message_ts: str = "",
        blocks: list[dict[str, Any]] | None = None,
        response: str = "action",
    ) -> Reply:
        action = {"action_ts": f"1772443{next(self._ids):03d}.000001", "type": "button", **action}
        data = payload(
            "block_actions",
            user=user,
            user_name=user.lower(),
            channel=channel,
            channel_name="sdk-experts" if channel.startswith("C") else "directmessage",
            message_ts=message_ts,
            trigger_id=self.next_id("trigger."),
            response_url=self.fake.response_url(response),
            blocks=blocks or [],
            action=action,
        )
        return await self.interactive(data)

    async def submit(
        self, callback_id: str, values: dict[str, Any], *, user: str, private_metadata: str = "{}", view_id: str = ""
    ) -> Reply:
        data = payload(
            "view_submission",
            user=user,
            user_name=user.lower(),
            trigger_id=self.next_id("trigger."),
            view_id=view_id or self.next_id("V"),
            callback_id=callback_id,
            private_metadata=private_metadata,
            values=values,
        )
        return await self.interactive(data)

    async def event(self, name: str, *, event_id: str | None = None, retry: int | None = None, **values: Any) -> Reply:
        body = json.dumps(
            payload("event_callback", event=payload(name, **values), event_id=event_id or self.next_id("Ev"))
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(body, "application/json", headers=headers)

    # ------------------------------------------------------------ time and state

    async def settle(self) -> None:
        await self.runtime.sweep()
        await self.runtime.dispatch()
        await self.platform.home.flush()  # the App Home refreshes the deliveries asked for

    async def wait(self, **delta: float) -> None:
        from datetime import timedelta

        self.clock.advance(timedelta(**delta))
        await self.settle()

    async def only_escalation(self) -> Escalation:
        async with self.runtime.store.unit_of_work() as uow:
            rows = await uow.escalations.list_by_community("sdk") + await uow.escalations.list_by_community("billing")
        assert len(rows) == 1, rows
        return rows[0]

    async def escalation(self, escalation_id: str) -> Escalation:
        esc = await self.runtime.service.get(escalation_id, None)
        assert esc is not None
        return esc

    async def card_ts(self, escalation_id: str) -> str:
        refs = await self.runtime.service.messages(escalation_id, _scope(), "card")
        assert refs, "the card was not posted"
        return refs[0].id

    def value(self, esc: Escalation, action: str | None = None) -> str:
        data: dict[str, Any] = {"e": esc.id, "v": esc.version}
        if action:
            data["a"] = action
        return json.dumps(data, separators=(",", ":"))


def _scope() -> Any:
    from workflows.ports import Scope

    return Scope("slack", "T0ACME")


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def make_harness(
    store: Store, clock: FakeClock, fake: FakeSlack, *, inline_retry_max_wait: float = 2.0, config: str = CONFIG
) -> tuple[SlackHarness, Any]:
    directory = parse_config(config, "slack-test.yaml")
    runtime = Runtime(store, directory, {}, clock=clock, holder="slack-test")
    platform = SlackPlatform(
        service=runtime.service,
        clock=clock,
        bot_token="xoxb-test-token",
        signing_secret=SECRET,
        api_url=fake.api_url,
        inline_retry_max_wait=inline_retry_max_wait,
    )
    runtime.dispatcher.senders[Platform.slack] = platform.sender
    app = build_app(runtime, mounts=[platform.mount], start_jobs=False)

    async def close_platform(_: Any) -> None:
        await platform.close()

    app.on_cleanup.append(close_platform)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return SlackHarness(client, fake, runtime, platform, clock), client


@pytest.fixture
async def slack(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness, client = await make_harness(store, clock, fake_slack)
    try:
        yield harness
    finally:
        await client.close()
