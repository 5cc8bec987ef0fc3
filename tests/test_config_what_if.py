"""`config check` against a running database: what the file being checked would change for
the open questions stored there (experts added/removed, who would move on, dropped communities)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.reload import ConfigReloader
from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, CONFIG, LEE, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.commands import Accept, Assign
from workflows.model import Platform

# Ada leaves sdk, Dana joins it, billing is dropped.
NEW = CONFIG.replace(
    'experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]',
    'experts: ["slack:U0BEN", "slack:U0CHEN", "slack:U0DANA"]',
).split("  - key: billing")[0]


async def config_check(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str | None, text: str = NEW) -> int:
    path = tmp_path / "escalation.yaml"
    path.write_text(text)
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return await asyncio.to_thread(main, ["config", "check", str(path)])


async def open_question(runtime: Runtime, community: str = "sdk") -> str:
    esc = (await runtime.service.open(requester=SAM, community_key=community, question="Why?")).escalation
    assert esc is not None
    return esc.id


async def test_config_check_shows_what_the_file_would_change_for_open_questions(
    database_url: str,
    store: Store,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = Runtime(store, directory(), {Platform.slack: RecordingSender()}, clock=clock, holder="test")
    assigned = await open_question(runtime)
    await runtime.service.handle(Assign(id="a1", escalation_id=assigned, actor=LEE, assignee=ADA))
    accepted = await open_question(runtime)
    await runtime.service.handle(Assign(id="a2", escalation_id=accepted, actor=LEE, assignee=ADA))
    await runtime.service.handle(Accept(id="a3", escalation_id=accepted, actor=ADA))
    await open_question(runtime, "billing")

    # The file each question stores: nothing changes.
    assert await config_check(monkeypatch, tmp_path, database_url, CONFIG) == 0
    assert "open questions, if this file is loaded (from the database): nothing changes\n" in capsys.readouterr().out

    code = await config_check(monkeypatch, tmp_path, database_url)
    out = capsys.readouterr().out
    assert code == 0
    tail = out[out.index("open questions, if this file is loaded (from the database):\n") :]
    assert tail.splitlines()[1:] == [
        "  billing: not in this file: its 1 open question(s) keep their roster",
        "  sdk: experts, against the roster stored with 2 open question(s): added slack:U0DANA; removed slack:U0ADA",
        f"  sdk: would move on: #{assigned[:8]} from slack:U0ADA",
    ]
    assert accepted[:8] not in out  # accepted: its owner took it on, it stays

    # A reload of the same file does what was predicted.
    runtime.config_reloader = ConfigReloader(runtime, tmp_path / "escalation.yaml")
    assert await runtime.config_reloader.reload("test")
    moved, kept = await runtime.service.get(assigned, None), await runtime.service.get(accepted, None)
    assert moved is not None and moved.owner is not None and moved.owner.person.id != "U0ADA"
    assert kept is not None and kept.owner is not None and kept.owner.person.id == "U0ADA"

    # The file now in use: nothing more would move on; the accepted question (untouched by the
    # reload) still stores the roster it had.
    capsys.readouterr()
    assert await config_check(monkeypatch, tmp_path, database_url) == 0
    out = capsys.readouterr().out
    assert "would move on" not in out
    assert "  sdk: experts, against the roster stored with 1 open question(s): added slack:U0DANA" in out


async def test_config_check_says_in_one_line_when_the_database_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await config_check(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'none.db'}") == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("open questions")]
    assert line.startswith("open questions: what this file would change is not shown (there is no database at")
    assert await config_check(monkeypatch, tmp_path, None) == 0
    assert "open questions" not in capsys.readouterr().out
