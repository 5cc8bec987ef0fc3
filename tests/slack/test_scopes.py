"""manifest.yaml grants every scope the bot needs, and none it does not: every Slack Web API
method called anywhere in adapters/ and bot/ is in adapters/slack/scopes.py with the scopes
Slack's reference lists, and so is every subscribed event."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import scopes

ROOT = Path(__file__).resolve().parents[2]
_REFERENCE = re.compile(r"docs\.slack\.dev/reference/methods/([\w.]+)")


def _api_name(client_method: str) -> str | None:
    """``chat_postMessage`` -> ``chat.postMessage``, from the SDK's own link to Slack's reference."""
    method = getattr(AsyncWebClient, client_method, None)
    found = _REFERENCE.search(getattr(method, "__doc__", None) or "")
    return found.group(1) if found else None


def methods_called() -> dict[str, list[str]]:
    """Every Web API method our code calls, with where: ``client.chat_postMessage(...)`` (or
    passed as ``client.conversations_history`` to a helper) and ``api_call("x.y")``."""
    found: dict[str, list[str]] = {}
    for folder in ("adapters", "bot"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                name = None
                if isinstance(node, ast.Attribute):
                    name = _api_name(node.attr)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "api_call":
                    first = node.args[0] if node.args else None
                    name = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                if name:
                    found.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}")
    return found


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_the_scan_finds_calls_in_every_form() -> None:
    called = methods_called()
    assert "chat.postMessage" in called  # self.client.chat_postMessage(...)
    assert "conversations.history" in called  # partial(self.client.conversations_history, ...)


def test_every_method_the_code_calls_is_in_the_table_and_nothing_else() -> None:
    called = methods_called()
    missing = {name: where for name, where in called.items() if name not in scopes.WEB_API}
    assert not missing, f"add these to adapters/slack/scopes.py and docs/slack.md: {missing}"
    assert set(scopes.WEB_API) == set(called), "the table lists methods the code no longer calls"


def test_every_subscribed_event_is_in_the_table(manifest: dict[str, Any]) -> None:
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(scopes.EVENTS)


def test_the_manifest_grants_exactly_the_scopes_needed(manifest: dict[str, Any]) -> None:
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    features = {name for name in scopes.FEATURES if manifest["features"].get(name)}
    needed = scopes.needed(
        set(methods_called()), set(manifest["settings"]["event_subscriptions"]["bot_events"]), features
    )
    assert needed - granted == set(), "the manifest lacks scopes the bot needs"
    assert granted - needed == set(), "the manifest grants scopes nothing uses"


def test_the_duplicate_check_in_dms_is_covered() -> None:
    """The case that shipped broken: conversations.history on a DM needs im:history."""
    assert "im:history" in scopes.WEB_API["conversations.history"]


def test_the_docs_show_the_same_table() -> None:
    docs = (ROOT / "docs" / "slack.md").read_text()
    for method, needs in scopes.WEB_API.items():
        row = next((line for line in docs.splitlines() if re.match(rf"\s*\|[^|]*`{re.escape(method)}`", line)), None)
        assert row is not None, f"docs/slack.md has no row for {method}"
        assert all(f"`{scope}`" in row for scope in needs), row
    for event, needs in scopes.EVENTS.items():
        row = next((line for line in docs.splitlines() if line.strip().startswith(f"| `{event}` event")), None)
        assert row is not None and all(f"`{scope}`" in row for scope in needs), event
