"""manifest.yaml is a valid Slack app manifest and declares exactly what the code listens to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from adapters.slack.listeners import COMMAND, EVENTS, MANIFEST_EVENTS, MESSAGE_SHORTCUT
from adapters.slack.platform import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
# The platforms' published schemas, copied from ../shared/schemas (see tests/schemas/README.md).
SCHEMA = ROOT / "tests" / "schemas" / "slack-app-manifest.v1.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_manifest_validates_against_slacks_schema(manifest: dict[str, Any]) -> None:
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_commands_match(manifest: dict[str, Any]) -> None:
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == {COMMAND}


def test_shortcuts_match(manifest: dict[str, Any]) -> None:
    assert {s["callback_id"] for s in manifest["features"]["shortcuts"]} == {MESSAGE_SHORTCUT}


def test_bot_events_match(manifest: dict[str, Any]) -> None:
    assert set(MANIFEST_EVENTS) == set(EVENTS)
    declared = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert declared == {name for event in EVENTS for name in MANIFEST_EVENTS[event]}


def test_every_url_is_the_one_endpoint(manifest: dict[str, Any]) -> None:
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_registered_bolt_listeners_are_these(manifest: dict[str, Any]) -> None:
    """Read back what Bolt actually registered, not only our constants."""
    import asyncio

    from slack_bolt.request.async_request import AsyncBoltRequest

    from adapters.slack import SlackPlatform
    from bot.config import parse_config
    from workflows.clock import FakeClock
    from workflows.service import EscalationService

    from .conftest import CONFIG

    async def build() -> list[str]:
        directory = parse_config(CONFIG)
        service = EscalationService(store=None, directory=directory, clock=FakeClock())  # type: ignore[arg-type]
        platform = SlackPlatform(service=service, clock=FakeClock(), bot_token="xoxb-x", signing_secret="s")
        matched: list[str] = []
        probes: dict[str, dict[str, Any]] = {
            f"command:{COMMAND}": {"command": COMMAND, "team_id": "T", "user_id": "U", "text": ""},
            f"shortcut:{MESSAGE_SHORTCUT}": {
                "type": "message_action",
                "callback_id": MESSAGE_SHORTCUT,
                "team": {"id": "T"},
            },
        }
        for event in EVENTS:
            probes[f"event:{event}"] = {"type": "event_callback", "team_id": "T", "event": {"type": event}}
        for name, body in probes.items():
            request = AsyncBoltRequest(body=json.dumps(body) if "command" not in body else _form(body), headers={})
            for listener in platform.bolt._async_listeners:
                if await listener.async_matches(req=request, resp=None):  # type: ignore[arg-type]
                    matched.append(name)
                    break
        await platform.close()
        return matched

    matched = asyncio.run(build())
    assert set(matched) == {f"command:{COMMAND}", f"shortcut:{MESSAGE_SHORTCUT}", *(f"event:{e}" for e in EVENTS)}


def _form(body: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(body)


def test_the_slash_commands_hint_names_every_word_of_the_grammar(manifest: dict[str, Any]) -> None:
    from workflows.requests import FORMS

    [command] = manifest["features"]["slash_commands"]
    words = {form.words.split()[0] for form in FORMS if form.words and not form.words.startswith("<")}
    assert all(word in command["usage_hint"].split() for word in words), command["usage_hint"]
    assert all(f'"{word}"' in command["description"] for word in words), command["description"]
