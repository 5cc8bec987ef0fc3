"""`escalation-bot console-link`: a new one-time link from the terminal."""

from __future__ import annotations

from datetime import timedelta
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
    later = run_cli("console-link", "--as", "slack:T0ACME/U0ADA", env=env).stdout.strip()
    store = Store(database_url)
    try:
        now = SystemClock().now()
        person = await ConsoleStore(store).redeem(token_hash(link.split("token=")[1]), now)
        again = await ConsoleStore(store).redeem(token_hash(link.split("token=")[1]), now)
        # The second link, 15 minutes on (and a second more): expired, never used.
        expired = await ConsoleStore(store).redeem(
            token_hash(later.split("token=")[1]), now + timedelta(minutes=15, seconds=1)
        )
    finally:
        await store.close()
    assert person is not None and person.key == "slack:U0ADA" and person.tenant == "T0ACME"
    assert again is None and expired is None  # once; within 15 minutes

    bad = run_cli("console-link", "--as", "ada", env=env)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("escalation-bot: --as:")
    assert "Traceback" not in bad.stderr


def test_admins_are_people_and_a_wrong_one_is_named() -> None:
    directory = parse_config(CONFIG, "c.yaml")
    assert [a.key for a in directory.admins] == ["slack:U0ADMIN", "teams:entra-admin"]
    with pytest.raises(ConfigError, match=r"c.yaml: admins\[1\]: 'bob' is not a person"):
        parse_config(CONFIG.replace('"teams:entra-admin"', '"bob"'), "c.yaml")


async def test_the_demo_ends_with_a_console_link_to_its_escalation(tmp_path: Path) -> None:
    import asyncio
    import os
    import signal
    import subprocess
    import sys

    import aiohttp

    from tests.test_cli import ROOT
    from tests.test_serve import free_port

    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - the demo as a person runs it
        [sys.executable, "-m", "bot.cli", "demo", "--console", str(port)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = ""
        while "web console shows this escalation" not in line:
            line = await asyncio.to_thread(proc.stdout.readline)
            assert line, proc.communicate()[1]
        link = line.rsplit(": ", 1)[1].strip()
        assert link.startswith(f"http://127.0.0.1:{port}/console/signin/link?token=")
        # An IP address as host: aiohttp keeps its cookies only when told to (browsers do).
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http, http.get(link) as response:
            page = await response.text()
            assert response.status == 200 and "/console/escalations/" in str(response.url)
            assert "the iOS SDK crashes on launch" in page and "Add PrivacyInfo.xcprivacy" in page
            assert "&lt;!channel&gt;" in page  # the question's markup, as text
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
