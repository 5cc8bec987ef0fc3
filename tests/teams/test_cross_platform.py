"""Across platforms: a Teams requester escalates into a community whose channel is on Slack.
The Slack card works as usual, and the requester hears back on Teams (fake Slack Web API and
fake Bot Connector together, one app, one outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackPlatform
from adapters.teams import TeamsConfig, TeamsIntegration
from bot.app import build_app
from bot.config import parse_config
from bot.runtime import Runtime
from storage import Store
from storage.teams_conversations import TeamsConversationStore
from tests.slack.conftest import SECRET, SlackHarness, fake_slack  # noqa: F401 - the fixture is used below
from tests.slack.fake_slack import FakeSlack
from workflows.clock import FakeClock
from workflows.model import Ownership, Platform, Status

from .conftest import APP_ID, APP_PASSWORD, SAM, TENANT, Teams
from .fakes import FakeConnector, FakeLogin, LocalCredentialsFactory

SLACK_CHANNEL = "C0SDK0001"
CONFIG = """
defaults:
  policy: {nudge_after: 30m, assign_after: 2h}
people:
  - {name: Ada, slack: U0ADA}
  - {name: Chen, slack: U0CHEN}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001, team: T0ACME}
    experts: ["slack:U0ADA", "slack:U0CHEN"]
"""


@pytest.fixture
async def both(
    store: Store,
    clock: FakeClock,
    login: FakeLogin,
    connector: FakeConnector,
    fake_slack: FakeSlack,  # noqa: F811
) -> AsyncIterator[tuple[Teams, SlackHarness]]:
    runtime = Runtime(store, parse_config(CONFIG, "cross.yaml"), {}, clock=clock)
    slack_platform = SlackPlatform(
        service=runtime.service,
        clock=clock,
        bot_token="xoxb-test-token",
        signing_secret=SECRET,
        api_url=fake_slack.api_url,
    )
    conversations = TeamsConversationStore(store)
    config = TeamsConfig(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        service_url_allowlist=(connector.url,),
        openid_metadata_url=login.metadata_url,
    )
    integration = TeamsIntegration(
        config,
        runtime.service,
        conversations,
        credentials_factory=LocalCredentialsFactory(APP_ID, APP_PASSWORD, login.token_url),
    )
    runtime.dispatcher.senders[Platform.slack] = slack_platform.sender
    runtime.dispatcher.senders[Platform.teams] = integration.sender
    app = build_app(runtime, mounts=[slack_platform.mount, integration.mount], start_jobs=False)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield (
            Teams(client, runtime, clock, login, connector, integration, conversations),
            SlackHarness(client, fake_slack, runtime, slack_platform, clock),
        )
    finally:
        await client.close()
        await slack_platform.close()


def _dm_text(teams: Teams) -> str:
    """The heading of the latest card Sam got in his Teams 1:1 chat."""
    card = teams.connector.dms_to(SAM[0])[-1].card() or {}
    return str(card["body"][0]["text"])


async def test_a_teams_requester_escalates_to_a_slack_channel(both: tuple[Teams, SlackHarness]) -> None:
    teams, slack = both
    await teams.install()
    await teams.say(SAM, "escalate sdk Does the SDK support Android 15?")
    assert "Escalated to Mobile SDK" in teams.connector.of("reply")[-1].text()
    esc = await teams.only_escalation()
    assert esc.requester.platform == Platform.teams and esc.requester.tenant == TENANT

    # The card goes to Slack, as usual; nothing is posted in a Teams channel.
    await slack.settle()
    [card] = slack.fake.posts(SLACK_CHANNEL, thread=False)
    assert "Android 15" in card.dump()
    assert teams.connector.of("create") == [] or all(c.body.get("members") for c in teams.connector.of("create"))
    ts = await slack.card_ts(esc.id)

    # Ada claims on Slack: Sam is told on Teams, in a 1:1 chat.
    reply = await slack.action({"action_id": "claim", "value": slack.value(esc)}, user="U0ADA", message_ts=ts)
    assert reply.status == 200
    await slack.settle()
    assert "ada is looking at your question" in _dm_text(teams).lower()  # Slack names people by handle

    # Ada assigns it to Chen on Slack: Sam hears of the assignment on Teams.
    esc = await slack.escalation(esc.id)
    reply = await slack.action(
        {
            "action_id": "assign",
            "type": "users_select",
            "block_id": f"esc:{esc.id}:{esc.version}:actions",
            "selected_user": "U0CHEN",
        },
        user="U0ADA",
    )
    assert reply.status == 200
    await slack.settle()
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.person.id == "U0CHEN" and esc.owner.kind == Ownership.assigned
    assert "Your question is now assigned to" in _dm_text(teams) and "U0CHEN" in _dm_text(teams)
    assert slack.fake.posts("U0CHEN"), "Chen is told on Slack"

    # Chen answers in the Slack thread; Sam cannot see Slack, so the answer comes to Teams.
    await slack.event(
        "message_in_thread",
        user="U0CHEN",
        text="Yes, from 4.2 on.",
        ts="1772450000.000100",
        thread_ts=ts,
        channel=SLACK_CHANNEL,
    )
    await slack.settle()
    assert "Yes, from 4.2 on." in _dm_text(teams)

    # Chen resolves with the reaction on Slack: Sam gets the resolution on Teams, with Reopen.
    await slack.event("reaction_added", user="U0CHEN", reaction="white_check_mark", channel=SLACK_CHANNEL, ts=ts)
    await slack.settle()
    assert (await slack.escalation(esc.id)).status == Status.resolved
    resolved = teams.connector.dms_to(SAM[0])[-1].card() or {}
    assert "resolved your question" in _dm_text(teams)
    assert [a["verb"] for a in resolved["actions"]] == ["reopen"]

    async with teams.runtime.store.unit_of_work() as uow:
        assert (await uow.outbox.counts()).get("failed", 0) == 0
