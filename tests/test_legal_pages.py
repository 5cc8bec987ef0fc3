"""/privacy and /terms, which the Teams app package links to: served by every bot, plain
HTML, with the admin's own text when PRIVACY_FILE / TERMS_FILE are set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import ConfigError, parse_config
from bot.settings import Settings
from bot.wiring import build_server
from storage import Store

CONFIG = "communities:\n  - key: sdk\n    slack: {channel: C0123ABCD}\n"


def _settings(**values: str) -> Settings:
    return Settings.model_validate({"DATABASE_URL": "sqlite://", **values})


async def _get(app: Any, path: str) -> tuple[int, str, str]:
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        response = await client.get(path)
        return response.status, response.content_type, await response.text()
    finally:
        await client.close()


async def test_serve_has_privacy_and_terms_pages_with_a_default_text(store: Store) -> None:
    app = await build_server(_settings(), parse_config(CONFIG), store)
    status, kind, text = await _get(app, "/privacy")
    assert (status, kind) == (200, "text/html")
    assert "<h1>Privacy statement</h1>" in text and "your organisation's own database" in text
    app = await build_server(_settings(), parse_config(CONFIG), store)
    status, kind, text = await _get(app, "/terms")
    assert (status, kind) == (200, "text/html") and "<h1>Terms of use</h1>" in text


async def test_the_admin_text_replaces_the_default_escaped_in_paragraphs(store: Store, tmp_path: Path) -> None:
    privacy = tmp_path / "privacy.txt"
    privacy.write_text("Acme keeps questions for a year.\n\nWrite to <privacy@acme.example> & ask.\n")
    app = await build_server(_settings(PRIVACY_FILE=str(privacy)), parse_config(CONFIG), store)
    _, _, text = await _get(app, "/privacy")
    assert "<p>Acme keeps questions for a year.</p>" in text
    assert "<p>Write to &lt;privacy@acme.example&gt; &amp; ask.</p>" in text
    assert "your organisation's own database" not in text


async def test_an_unreadable_text_file_is_one_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^TERMS_FILE=.*missing\.txt: cannot read it"):
        await build_server(_settings(TERMS_FILE=str(tmp_path / "missing.txt")), parse_config(CONFIG), store)
