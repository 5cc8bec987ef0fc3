"""`escalation-bot outbox list` shows ids whole (an operator pastes them), as a table or JSON."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.runtime import Runtime
from storage import Store
from tests.support import RecordingSender, directory
from workflows.clock import FakeClock
from workflows.delivery import PermanentDeliveryError
from workflows.effects import Effect, PostCard
from workflows.model import PersonRef, Platform

ROOT = Path(__file__).resolve().parents[1]
CHANNEL = "19:0123456789abcdef0123456789abcdef@thread.tacv2"
ERROR = "the bot is not a member of this conversation any more; " * 4
CONFIG = f"""
communities:
  - key: sdk
    teams: {{channel: "{CHANNEL}", team: "19:team@thread.tacv2", tenant: "tenant-1"}}
    experts: ["teams:29:ada"]
"""


def gone(effect: Effect) -> Exception | None:
    return PermanentDeliveryError(ERROR, code="conversation_not_found") if isinstance(effect, PostCard) else None


async def test_outbox_list_does_not_cut_ids(database_url: str, clock: FakeClock) -> None:
    teams = RecordingSender(platform=Platform.teams, fail=gone)
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.teams: teams}, clock=clock)
    requester = PersonRef(platform=Platform.teams, id="29:1sam-a-long-teams-user-id-0123456789", tenant="tenant-1")
    await runtime.service.open(requester=requester, community_key="sdk", question="q")
    await runtime.dispatch()
    await runtime.stop()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot.cli", "outbox", "list", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)

    table = await asyncio.to_thread(run)
    assert table.returncode == 0, table.stderr
    assert f"        teams:{CHANNEL}" in table.stdout.splitlines()  # on a line of its own, whole
    assert "conversation_not_found" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 100
    rows = json.loads((await asyncio.to_thread(run, "--format", "json")).stdout)
    card = next(r for r in rows if r["kind"] == "post_card")
    assert card["target"] == CHANNEL and card["platform"] == "teams" and ERROR.strip() in card["last_error"]
