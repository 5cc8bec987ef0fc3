"""The Teams harness: the real aiohttp app with CloudAdapter, tokens signed by a local key,
a fake login service and a fake Bot Connector, and a fake clock."""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import TeamsConfig, TeamsIntegration
from bot.app import build_app
from bot.config import parse_config
from bot.runtime import Runtime
from storage import Store
from storage.teams_conversations import TeamsConversationStore
from workflows.clock import FakeClock
from workflows.model import Escalation, Platform

from .fakes import FakeConnector, FakeLogin, LocalCredentialsFactory

PAYLOADS = Path(__file__).parent / "payloads"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
APP_PASSWORD = "local-test-secret"
BOT = f"28:{APP_ID}"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = "19:support-engineering@thread.tacv2"
CHANNEL = "19:sdk-experts@thread.tacv2"
SUPPORT = "19:support-floor@thread.tacv2"

SAM = ("29:sam", "Sam")
ADA = ("29:ada", "Ada")
BEN = ("29:ben", "Ben")
CHEN = ("29:chen", "Chen")
LEE = ("29:lee", "Lee")
EVE = ("29:eve", "Eve")

CONFIG = f"""
defaults:
  policy: {{nudge_after: 30m, assign_after: 2h, owner_reminder_after: 4h, reassign_after: 1d,
           requester_reminder_after: 1d}}
people:
  - {{name: Ada, teams: "29:ada"}}
  - {{name: Ben, teams: "29:ben"}}
  - {{name: Chen, teams: "29:chen"}}
  - {{name: Lee, teams: "29:lee"}}
communities:
  - key: sdk
    name: Mobile SDK
    teams: {{channel: "{CHANNEL}", team: "{TEAM}", tenant: "{TENANT}"}}
    experts: ["teams:29:ada", "teams:29:ben", "teams:29:chen"]
    lead: "teams:29:lee"
  - key: billing
    name: Billing
    teams: {{channel: "19:billing@thread.tacv2", team: "{TEAM}", tenant: "{TENANT}"}}
    experts: ["teams:29:bill"]
"""


def payload(name: str, /, **values: Any) -> dict[str, Any]:
    """A canned activity from ``payloads/``, with ``{{key}}`` placeholders filled in."""
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

    result: dict[str, Any] = fill(data)
    return result


@pytest.fixture(autouse=True)
def log_everything() -> Iterator[None]:
    """Our loggers at DEBUG and the root configuration restored afterwards, so a log call
    that only breaks when enabled (a reserved ``extra`` key) fails here, whatever ran before."""
    root = logging.getLogger()
    ours = logging.getLogger("escalation_bot")
    saved = (root.handlers[:], root.level, ours.level)
    ours.setLevel(logging.DEBUG)
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    ours.setLevel(saved[2])


@pytest.fixture(scope="session")
def login() -> Iterator[FakeLogin]:
    server = FakeLogin(APP_ID, APP_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.close()


@dataclass
class Teams:
    """One bot deployment under test, and helpers that speak as Teams would."""

    client: TestClient[Any, Any]
    runtime: Runtime
    clock: FakeClock
    login: FakeLogin
    connector: FakeConnector
    integration: TeamsIntegration
    conversations: TeamsConversationStore
    auth: bool = True
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def service_url(self) -> str:
        return self.connector.url

    def next_id(self) -> str:
        return f"1677{next(self._ids):06d}"

    def values(self, **values: Any) -> dict[str, Any]:
        base = {
            "service_url": self.service_url,
            "tenant": TENANT,
            "team": TEAM,
            "channel": CHANNEL,
            "bot": BOT,
        }
        base.update(values)
        base.setdefault("id", self.next_id())
        return base

    async def post(self, activity: dict[str, Any], *, token: str | None = None) -> ClientResponse:
        headers = {}
        if self.auth:
            headers["Authorization"] = f"Bearer {token or self.login.token(str(activity.get('serviceUrl')))}"
        return await self.client.post("/api/messages", json=activity, headers=headers)

    async def send(self, payload_name: str, /, *, expect: int = 200, **values: Any) -> dict[str, Any]:
        response = await self.post(payload(payload_name, **self.values(**values)))
        body = await response.text()
        assert response.status == expect, body
        return json.loads(body) if body else {}

    async def install(self) -> None:
        await self.send("install_team")

    async def say(self, who: tuple[str, str], text: str, *, channel: str = SUPPORT, **extra: Any) -> dict[str, Any]:
        return await self.send("channel_mention", user=who[0], name=who[1], text=text, channel=channel, **extra)

    async def act(
        self,
        who: tuple[str, str],
        verb: str,
        esc: Escalation,
        *,
        personal: bool = False,
        card_message: str = "",
        **inputs: Any,
    ) -> dict[str, Any]:
        data = {"verb": verb, "escalation_id": esc.id, "version": esc.version, **inputs}
        conversation = f"a:dm-{who[0]}" if personal else f"{CHANNEL};messageid={card_message}"
        return await self.send(
            "card_action",
            user=who[0],
            name=who[1],
            verb=verb,
            data=data,
            conversation=conversation,
            conversation_type="personal" if personal else "channel",
            message=card_message,
        )

    async def only_escalation(self) -> Escalation:
        async with self.runtime.store.unit_of_work() as uow:
            rows = await uow.escalations.list_by_community("sdk")
        assert len(rows) == 1, rows
        return rows[0]

    async def reload(self, esc: Escalation) -> Escalation:
        found = await self.runtime.service.get(esc.id, None)
        assert found is not None
        return found


async def make_teams(
    store: Store,
    clock: FakeClock,
    login: FakeLogin,
    connector: FakeConnector,
    *,
    auth: bool = True,
    communities: str = CONFIG,
) -> AsyncIterator[Teams]:
    directory = parse_config(communities, "teams-test.yaml")
    runtime = Runtime(store, directory, {}, clock=clock)
    conversations = TeamsConversationStore(store)
    config = TeamsConfig(
        app_id=APP_ID if auth else "",
        app_password=APP_PASSWORD if auth else "",
        service_url_allowlist=(connector.url,),
        openid_metadata_url=login.metadata_url,
    )
    factory = LocalCredentialsFactory(config.app_id, config.app_password, login.token_url)
    integration = TeamsIntegration(config, runtime.service, conversations, credentials_factory=factory)
    runtime.dispatcher.senders[Platform.teams] = integration.sender
    app = build_app(runtime, mounts=[integration.mount], start_jobs=False)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Teams(client, runtime, clock, login, connector, integration, conversations, auth=auth)
    finally:
        await client.close()


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector):
        yield harness
