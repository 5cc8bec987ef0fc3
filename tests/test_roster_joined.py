"""Who joined open rosters themselves: `config check` reads it from the database when it can,
and the daily digest lists it on both platforms. Also: `config check` shows own hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.slack.digests import digest_blocks
from adapters.teams.digest_card import digest_card
from bot.cli import main
from bot.runtime import Runtime
from storage import Store
from tests.support import BEN, RecordingSender, directory, slack
from tests.test_digest import CONFIG as DIGEST_CONFIG
from workflows.clock import FakeClock
from workflows.effects import PostDigest
from workflows.model import Platform

DANA = slack("U0DANA").model_copy(update={"name": "Dana <ops>"})
CONFIG = """
people:
  - {name: Ada, slack: U0ADA, timezone: Asia/Tokyo, hours: "09:00-17:30"}
  - {name: Ben, slack: U0BEN}
communities:
  - key: sdk
    slack: {channel: C0123ABCD}
    experts: [Ada, Ben]
    open_roster: true
  - key: closed
    slack: {channel: C0456EFGH}
    experts: [Ben]
"""


async def config_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> int:
    path = tmp_path / "escalation.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    # `config check` runs its own event loop.
    return await asyncio.to_thread(main, ["config", "check", str(path)])


async def test_config_check_shows_who_joined_from_the_database(
    database_url: str, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    async with store.unit_of_work() as uow:
        await uow.roster_members.set("sdk", DANA, True, at)
        await uow.roster_members.set("sdk", BEN, False, at)
    code = await config_check(monkeypatch, tmp_path, database_url)
    out = capsys.readouterr().out
    assert code == 0
    assert "  experts: Ada (09:00-17:30 Asia/Tokyo), Ben\n" in out
    assert "joined open rosters (from the database):\n  sdk: joined: Dana <ops>; left (named in the file): Ben\n" in out
    assert "closed: joined" not in out


async def test_config_check_without_a_database_says_so_and_passes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await config_check(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'none.db'}")
    out = capsys.readouterr().out
    assert code == 0
    assert "joined open rosters: not shown (there is no database at" in out


async def test_the_digest_lists_who_joined(database_url: str) -> None:
    config = DIGEST_CONFIG.replace(
        '      digest_at: "09:00"\n', '      digest_at: "09:00"\n      digest_when_empty: true\n', 1
    )
    config = config.replace(
        '    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]\n',
        '    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]\n    open_roster: true\n',
        1,
    )
    assert "open_roster" in config and "digest_when_empty: true\n      digest_when_empty" not in config
    clock = FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(config), {Platform.slack: sender}, clock=clock)
    try:
        said = await runtime.service.presence.membership(DANA, "sdk", True)
        assert said.text.startswith("You joined the Mobile SDK rotation")
        clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # sdk's digest, 09:00 London
        assert await runtime.digest() == 1
        await runtime.dispatch()
        [digest] = [e for _, e in sender.delivered if isinstance(e, PostDigest)]
        assert digest.joined == "Joined the rotation themselves: Dana <ops>."
        assert digest.text().splitlines()[-1] == digest.joined
        assert "Joined the rotation themselves: Dana &lt;ops&gt;." in str(digest_blocks(digest))
        assert "Dana <ops>" in str(digest_card(digest))
    finally:
        await runtime.stop()
