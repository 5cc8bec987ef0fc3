"""Teams is on with an app id (authenticated), on without one only when asked (Emulator,
authentication off and said loudly), off otherwise, and half a configuration is refused."""

from __future__ import annotations

import logging

import pytest

from adapters.teams import DEFAULT_SERVICE_URL_ALLOWLIST, TeamsSender
from bot.app import RUNTIME
from bot.config import ConfigError, parse_config
from bot.settings import Settings
from bot.wiring import build_server
from storage import Store
from workflows.model import Platform

from .conftest import APP_ID, CONFIG


def settings(**values: str) -> Settings:
    return Settings.model_validate({"DATABASE_URL": "sqlite://", **values})


def _has_route(app: object) -> bool:
    return any(getattr(r.resource, "canonical", "") == "/api/messages" for r in app.router.routes())  # type: ignore[attr-defined]


async def test_an_app_id_turns_teams_on_with_authentication(store: Store) -> None:
    app = await build_server(
        settings(
            MICROSOFT_APP_ID=APP_ID,
            MICROSOFT_APP_PASSWORD="secret",
            TEAMS_SERVICE_URL_ALLOWLIST="https://smba.trafficmanager.net/, http://127.0.0.1:3978/",
        ),
        parse_config(CONFIG),
        store,
    )
    assert _has_route(app)
    sender = app[RUNTIME].dispatcher.senders[Platform.teams]
    assert isinstance(sender, TeamsSender)
    assert sender.connector.app_id == APP_ID
    assert sender.connector.allowlist.entries == ("https://smba.trafficmanager.net/", "http://127.0.0.1:3978/")


async def test_teams_enabled_without_an_app_id_warns_that_authentication_is_off(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="escalation_bot.teams"):
        app = await build_server(settings(TEAMS_ENABLED="true"), parse_config(CONFIG), store)
    assert _has_route(app)
    assert any("AUTHENTICATION IS OFF" in r.getMessage() for r in caplog.records)
    sender = app[RUNTIME].dispatcher.senders[Platform.teams]
    assert isinstance(sender, TeamsSender)
    assert sender.connector.allowlist.entries == DEFAULT_SERVICE_URL_ALLOWLIST


async def test_without_teams_settings_there_is_no_teams_route(store: Store) -> None:
    app = await build_server(settings(), parse_config(CONFIG), store)
    assert not _has_route(app)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"MICROSOFT_APP_ID": APP_ID}, "MICROSOFT_APP_PASSWORD is not"),
        ({"MICROSOFT_APP_PASSWORD": "secret"}, "MICROSOFT_APP_ID is not"),
        (
            {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "s", "MICROSOFT_APP_TYPE": "SingleTenant"},
            "MICROSOFT_APP_TENANT_ID",
        ),
    ],
)
async def test_half_configured_teams_refuses_to_start(store: Store, values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        await build_server(settings(**values), parse_config(CONFIG), store)
