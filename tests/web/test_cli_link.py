"""`escalation-bot console-link`: a new one-time link from the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.web.session import token_hash
from bot.config import ConfigError, parse_config
from storage import Store
from storage.console import ConsoleStore
from tests.test_cli import run_cli
from workflows.clock import SystemClock

from .conftest import CONFIG


async def test_console_link_prints_a_link_for_the_person_named(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(CONFIG)
    env = {"DATABASE_URL": database_url, "ESCALATION_CONFIG": str(config), "CONSOLE_URL": "https://bot.example.com"}
    result = run_cli("console-link", "--as", "slack:T0ACME/U0ADA", env=env)
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith("https://bot.example.com/console/signin/link?token=")
    store = Store(database_url)
    try:
        person = await ConsoleStore(store).redeem(token_hash(link.split("token=")[1]), SystemClock().now())
    finally:
        await store.close()
    assert person is not None and person.key == "slack:U0ADA" and person.tenant == "T0ACME"

    bad = run_cli("console-link", "--as", "ada", env=env)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("escalation-bot: --as:")
    assert "Traceback" not in bad.stderr


def test_admins_are_people_and_a_wrong_one_is_named() -> None:
    directory = parse_config(CONFIG, "c.yaml")
    assert [a.key for a in directory.admins] == ["slack:U0ADMIN", "teams:entra-admin"]
    with pytest.raises(ConfigError, match=r"c.yaml: admins\[1\]: 'bob' is not a person"):
        parse_config(CONFIG.replace('"teams:entra-admin"', '"bob"'), "c.yaml")
