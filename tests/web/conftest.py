"""The console under test: the real app (serve's wiring of the console), a fake clock, a
recording platform for both Slack and Teams, and helpers that act as a browser would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from adapters.web import ConsoleConfig, OidcProvider, WebConsole
from bot.app import build_app
from bot.config import parse_config
from bot.config_check import describe_policy
from bot.runtime import Runtime
from storage import Store
from storage.console import ConsoleStore
from tests.support import RecordingSender
from workflows.clock import FakeClock
from workflows.commands import Claim, Reply, Resolve
from workflows.model import Escalation, PersonRef, Platform

ACME, GLOBEX, TENANT = "T0ACME", "T0GLOBEX", "72f988bf-86f1-41af-91ab-2d7cd011db47"
CONFIG = f"""
admins: ["slack:{ACME}/U0ADMIN", "teams:entra-admin"]
people:
  - {{name: Ada, slack: U0ADA, teams: "29:ada"}}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {{channel: C0SDK0001, team: {ACME}}}
    teams: {{channel: "19:sdk@thread.tacv2", team: "19:team@thread.tacv2", tenant: "{TENANT}"}}
    experts: ["slack:U0ADA", "slack:U0BEN"]
    lead: "slack:U0LEE"
    policy: {{nudge_after: 30m, assign_after: 2h, deflection_wait: off}}
  - key: billing
    name: Billing
    slack: {{channel: C0BILL001, team: {ACME}}}
    experts: ["slack:U0BILL1"]
    policy: {{deflection_wait: off}}
  - key: globex
    name: Globex support
    slack: {{channel: C0GLOBEX1, team: {GLOBEX}}}
    experts: ["slack:{GLOBEX}/U0GEXP"]
    policy: {{deflection_wait: off}}
"""


def person(ident: str, tenant: str = ACME, name: str | None = None) -> PersonRef:
    return PersonRef(platform=Platform.slack, id=ident, tenant=tenant, name=name)


ADMIN = person("U0ADMIN", name="Alex Admin")
ADA = person("U0ADA", name="Ada")
BEN = person("U0BEN", name="Ben")
LEE = person("U0LEE", name="Lee")
SAM = person("U0SAM", name="Sam")  # support staff: asks, is in no community
OTHER = person("U0OTHER", name="Olive")  # support staff who asked nothing
GLOBEX_USER = person("U0GX", GLOBEX, "Gus")


@dataclass
class Console:
    client: TestClient[Any, Any]
    runtime: Runtime
    console: WebConsole
    clock: FakeClock
    slack: RecordingSender
    teams: RecordingSender

    async def open(self, who: PersonRef, community: str, question: str, **extra: Any) -> Escalation:
        outcome = await self.runtime.service.open(requester=who, community_key=community, question=question, **extra)
        assert outcome.escalation is not None
        await self.runtime.dispatch()
        return outcome.escalation

    async def reload(self, esc: Escalation) -> Escalation:
        found = await self.runtime.service.get(esc.id, None)
        assert found is not None
        return found

    async def sign_in(self, who: PersonRef) -> None:
        response = await self.client.get(await self.link_path(who))
        assert response.status == 200, await response.text()

    async def link_path(self, who: PersonRef) -> str:
        link = await self.console.new_link(who)
        return "/" + link.split("://", 1)[1].split("/", 1)[1]

    async def page(self, path: str, expect: int = 200) -> str:
        response = await self.client.get(path)
        text = await response.text()
        assert response.status == expect, text
        return text

    async def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', await self.page(path))
        assert found, "no CSRF token on the page"
        return found.group(1)

    async def post(self, path: str, data: dict[str, str], *, from_page: str | None = None) -> ClientResponse:
        if from_page is not None:
            data = {"csrf": await self.csrf(from_page), **data}
        return await self.client.post(path, data=data, allow_redirects=False)

    async def weeks_of_history(self, weeks: int = 8) -> None:
        """Weeks of sdk questions before now, each answered faster than the week before
        (claimed and replied to, then resolved, by Ada), the clock ending where it started."""
        end = self.clock.now()
        self.clock.set(end - timedelta(weeks=weeks))
        for week in range(weeks):
            monday = end - timedelta(weeks=weeks - week)
            for n in range(3):
                self.clock.set(monday + timedelta(hours=1 + n))
                esc = await self.open(SAM, "sdk", f"Week {week} question {n}: build fails with Gradle {8 + n}")
                self.clock.advance(timedelta(minutes=90 - 10 * week + 15 * n))
                await self.runtime.service.handle(Claim(id=f"h-claim-{week}-{n}", escalation_id=esc.id, actor=ADA))
                reply = Reply(id=f"h-reply-{week}-{n}", escalation_id=esc.id, actor=ADA, text="Which plugin version?")
                await self.runtime.service.handle(reply)
                self.clock.advance(timedelta(hours=4 - week * 0.4))
                answer = Resolve(id=f"h-res-{week}-{n}", escalation_id=esc.id, actor=ADA, answer="Upgrade the plugin.")
                await self.runtime.service.handle(answer)
        self.clock.set(end)
        await self.runtime.dispatch()

    def sign_out_locally(self) -> None:
        self.client.session.cookie_jar.clear()


def console_config(url: str = "http://localhost", providers: tuple[OidcProvider, ...] = ()) -> ConsoleConfig:
    return ConsoleConfig(secret=b"test-secret-" * 4, public_url=url, providers=providers)


async def make_console(
    store: Store, clock: FakeClock, config: ConsoleConfig, server_port: int | None = None, bot_config: str = CONFIG
) -> AsyncIterator[Console]:
    directory = parse_config(bot_config, "console-test.yaml")
    slack, teams = RecordingSender(Platform.slack), RecordingSender(Platform.teams)
    runtime = Runtime(store, directory, {Platform.slack: slack, Platform.teams: teams}, clock=clock)
    queries = ConsoleStore(store)
    console = WebConsole(config, runtime.service, directory, queries, queries, clock, describe_policy)
    app = build_app(runtime, mounts=[console.mount], start_jobs=False)
    server = TestServer(app, host="127.0.0.1", port=server_port) if server_port else TestServer(app)
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    try:
        yield Console(client, runtime, console, clock, slack, teams)
    finally:
        await client.close()


@pytest.fixture
async def web(store: Store, clock: FakeClock) -> AsyncIterator[Console]:
    async for harness in make_console(store, clock, console_config()):
        yield harness


LINK_TTL = timedelta(minutes=15)
