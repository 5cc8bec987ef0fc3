"""Slack is on when configured, off when not, and refuses half a configuration."""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackSender
from adapters.slack.names import SlackNames
from bot.app import RUNTIME
from bot.config import ConfigError, parse_config
from bot.settings import Settings
from bot.web import WEB_CONSOLE
from bot.wiring import build_server
from storage import Store
from workflows.console import OPERATOR
from workflows.model import MessageRef, PersonRef, Platform

from .conftest import CONFIG
from .fake_slack import TEAM, WORKSPACE_URL, FakeSlack


def settings(**values: str) -> Settings:
    # model_validate: only these values, nothing from the environment or a .env file.
    return Settings.model_validate({"DATABASE_URL": "sqlite://", **values})


@pytest.mark.parametrize(
    "values",
    [
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        {"SLACK_SIGNING_SECRET": "s"},
        {"SLACK_APP_TOKEN": "xapp-1"},
    ],
)
async def test_half_configured_slack_refuses_to_start(store: Store, values: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="Slack is half-configured"):
        await build_server(settings(**values), parse_config(CONFIG), store)


async def test_configured_slack_is_mounted_and_delivers(store: Store) -> None:
    app = await build_server(
        settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", SLACK_API_URL="http://127.0.0.1:9/api/"),
        parse_config(CONFIG),
        store,
    )
    assert any(getattr(r.resource, "canonical", "") == "/slack/events" for r in app.router.routes())
    sender = app[RUNTIME].dispatcher.senders[Platform.slack]
    assert isinstance(sender, SlackSender)
    assert str(sender.client.base_url) == "http://127.0.0.1:9/api/"
    for hook in app.on_cleanup:
        await hook(app)
    assert sender.client.session is not None and sender.client.session.closed


async def test_without_slack_settings_there_is_no_slack_route(store: Store) -> None:
    app = await build_server(settings(), parse_config(CONFIG), store)
    assert not any(getattr(r.resource, "canonical", "") == "/slack/events" for r in app.router.routes())


async def test_socket_mode_alone_mounts_no_http_route(store: Store) -> None:
    app = await build_server(settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1"), parse_config(CONFIG), store)
    assert not any(getattr(r.resource, "canonical", "") == "/slack/events" for r in app.router.routes())
    # Connecting is left to start-up (a WebSocket to Slack), so nothing is contacted here.
    assert any(getattr(hook, "__name__", "") == "_start_socket_mode" for hook in app.on_startup)
    assert isinstance(app[RUNTIME].dispatcher.senders[Platform.slack], SlackSender)
    for hook in app.on_cleanup:
        await hook(app)


async def test_bolt_reads_only_what_the_settings_give_it(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # As serve runs: the token is in the environment, and the settings hand it to our client.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "c")
    caplog.set_level(logging.INFO, logger="escalation_bot.slack.bolt")
    app = await build_server(settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s"), parse_config(CONFIG), store)
    try:
        assert [r.getMessage() for r in caplog.records if r.name.startswith("escalation_bot.slack.bolt")] == []
        assert app[RUNTIME].dispatcher.senders[Platform.slack].client.token == "xoxb-1"  # type: ignore[attr-defined]
        assert os.environ["SLACK_BOT_TOKEN"] == "xoxb-1"  # the environment is as it was
    finally:
        for hook in app.on_cleanup:
            await hook(app)


async def test_the_console_opens_a_slack_card_by_its_permalink_where_slack_is_connected(
    store: Store, fake_slack: FakeSlack
) -> None:
    card = MessageRef(platform=Platform.slack, channel="C0SDK0001", id="1772450000.000100", tenant=TEAM)
    app = await build_server(
        settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", SLACK_API_URL=fake_slack.api_url),
        parse_config(CONFIG),
        store,
    )
    try:
        # The workspace's address comes from auth.test, as for the permalinks in people's DMs.
        link = await app[WEB_CONSOLE].thread_link(card)
        assert link == f"{WORKSPACE_URL}archives/C0SDK0001/p1772450000000100"
    finally:
        for hook in app.on_cleanup:
            await hook(app)
    without = await build_server(settings(), parse_config(CONFIG), store)
    # No Slack here: Slack's redirect opens the channel in the workspace.
    link = await without[WEB_CONSOLE].thread_link(card)
    assert link is not None and link.startswith("https://slack.com/app_redirect?channel=C0SDK0001&team=T0ACME")


async def test_the_console_names_experts_the_configuration_names_by_id_as_slack_does(
    store: Store, fake_slack: FakeSlack
) -> None:
    fake_slack.users["U0BILL1"] = {
        "id": "U0BILL1",
        "team_id": TEAM,
        "name": "bill",
        "profile": {"display_name": "Bill"},
    }
    app = await build_server(
        settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", SLACK_API_URL=fake_slack.api_url),
        parse_config(CONFIG),
        store,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        console = app[WEB_CONSOLE]
        link = await console.new_link(OPERATOR)
        address = urlsplit(link)
        assert (await client.get(f"{address.path}?{address.query}")).status == 200
        page = await (await client.get("/console/communities")).text()
        # Billing's expert is configured as slack:U0BILL1 only: the page shows Slack's name;
        # the people: names are the configuration's, and Slack is not asked for them.
        assert "<td>Bill<br><small>slack:U0BILL1</small>" in page
        assert [call.args["user"] for call in fake_slack.of("users.info")] == ["U0BILL1"]
        await client.get("/console/communities")
        assert len(fake_slack.of("users.info")) == 1  # kept for an hour, not asked per page
    finally:
        await client.close()
    # Slack failing leaves the id on the page, never an error.
    fake_slack.users.clear()
    fake_slack.fail("users.info", "user_not_found")
    names = SlackNames(AsyncWebClient(token="xoxb-1", base_url=fake_slack.api_url))
    assert await names.names([PersonRef(platform=Platform.slack, id="U0NEW", tenant=TEAM)]) == {}
