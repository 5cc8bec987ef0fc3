"""Live rosters over a real database: the configuration reloaded while running (file change,
SIGHUP), open questions using the roster as it is now, an owner who left moved on, a bad file
kept out and reported by /readyz."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.reload import ConfigReloader
from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, BEN, CONFIG, LEE, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.commands import Accept, Assign
from workflows.effects import Notify, ThreadReply
from workflows.model import Ownership, Platform

WITHOUT_ADA = CONFIG.replace('experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]', 'experts: ["slack:U0BEN"]')


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "escalation.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
async def runtime(store: Store, clock: FakeClock, sender: RecordingSender, config_file: Path) -> Runtime:
    runtime = Runtime(store, directory(), {Platform.slack: sender}, clock=clock, holder="test")
    runtime.config_reloader = ConfigReloader(runtime, config_file)
    return runtime


def write(path: Path, text: str) -> None:
    path.write_text(text)


def rewrite(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()  # a different mtime even within the filesystem's timestamp granularity
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


async def assigned_to_ada(runtime: Runtime) -> str:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="Why does it crash?")).escalation
    assert esc is not None
    await runtime.service.handle(Assign(id="a1", escalation_id=esc.id, actor=LEE, assignee=ADA))
    return esc.id


async def test_a_changed_file_is_picked_up_and_the_removed_owner_s_question_moves_on(
    runtime: Runtime, config_file: Path, sender: RecordingSender
) -> None:
    reloader = runtime.config_reloader
    assert reloader is not None
    esc_id = await assigned_to_ada(runtime)
    assert not await reloader.check()  # unchanged: nothing read, nothing moved
    esc = await runtime.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "U0ADA"
    rewrite(config_file, WITHOUT_ADA)
    assert await reloader.check()
    sdk = runtime.service.directory.get("sdk")
    assert sdk is not None and [e.key for e in sdk.experts] == ["slack:U0BEN"]
    esc = await runtime.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None
    assert esc.owner.person.id == "U0BEN" and esc.owner.kind == Ownership.assigned
    assert [e.key for e in esc.community.experts] == ["slack:U0BEN"]
    async with runtime.store.unit_of_work() as uow:
        trail = await uow.audit.for_escalation(esc_id)
    assert trail[-1].action == "moved_on"
    assert trail[-1].detail["because"] == "slack:U0ADA is no longer in the Mobile SDK rotation"
    await runtime.dispatch()
    told = {(e.person.id, e.notice.value) for _, e in sender.delivered if isinstance(e, Notify)}
    assert {("U0BEN", "assigned"), ("U0SAM", "reassigned"), ("U0ADA", "unassigned")} <= told
    # Run again (another replica, another poll): nothing more moves.
    assert await runtime.service.move_on_from_departed() == 0


async def test_an_accepted_question_stays_with_its_owner_after_they_leave(runtime: Runtime, config_file: Path) -> None:
    esc_id = await assigned_to_ada(runtime)
    await runtime.service.handle(Accept(id="ok", escalation_id=esc_id, actor=ADA))
    rewrite(config_file, WITHOUT_ADA)
    assert runtime.config_reloader is not None and await runtime.config_reloader.check()
    esc = await runtime.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "U0ADA"


async def test_open_questions_nudge_and_assign_from_the_roster_as_it_is_now(
    runtime: Runtime, config_file: Path, sender: RecordingSender, clock: FakeClock
) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    rewrite(config_file, WITHOUT_ADA)
    assert runtime.config_reloader is not None and await runtime.config_reloader.check()
    clock.advance(timedelta(minutes=31))
    await runtime.sweep()
    await runtime.dispatch()
    [nudge] = [e for _, e in sender.delivered if isinstance(e, ThreadReply) and e.notice.value == "nudge"]
    assert [p.id for p in nudge.mentions] == ["U0BEN"]
    clock.advance(timedelta(hours=2))
    await runtime.sweep()
    loaded = await runtime.service.get(esc.id, None)
    assert loaded is not None and loaded.owner is not None and loaded.owner.person.same(BEN)
    # The timers stay as they were when the question opened.
    assert loaded.policy.timers.assign_after == timedelta(hours=2)


async def test_a_bad_file_keeps_the_running_configuration_and_readyz_says_why(
    runtime: Runtime, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reloader = runtime.config_reloader
    assert reloader is not None
    running = runtime.service.directory
    rewrite(config_file, CONFIG.replace("nudge_after: 30m", "nudge_after: soon"))
    assert not await reloader.check()
    assert runtime.service.directory is running
    [record] = [r for r in caplog.records if r.name == "escalation_bot.config"]
    assert record.getMessage() == "configuration not reloaded; the running one stays"
    assert "'soon' is not a duration" in record.__dict__["error"]
    async with TestClient(TestServer(build_app(runtime, start_jobs=False))) as client:
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200  # still serving, on the last good configuration
        assert body["config"].startswith("not reloaded, the running configuration stays:")
        assert "'soon' is not a duration" in body["config"]
        # Fixed: picked up, and the report is gone.
        rewrite(config_file, WITHOUT_ADA)
        assert await reloader.check()
        assert "config" not in await (await client.get("/readyz")).json()


async def test_sighup_reloads(runtime: Runtime, config_file: Path) -> None:
    reloader = runtime.config_reloader
    assert reloader is not None
    write(config_file, WITHOUT_ADA)
    reloader._seen = reloader._stamp()  # as if unchanged on disk: only the signal reloads it
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, reloader.on_signal)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            await asyncio.sleep(0.01)
            sdk = runtime.service.directory.get("sdk")
            if sdk is not None and len(sdk.experts) == 1:
                break
        sdk = runtime.service.directory.get("sdk")
        assert sdk is not None and [e.key for e in sdk.experts] == ["slack:U0BEN"]
    finally:
        loop.remove_signal_handler(signal.SIGHUP)


async def test_the_scheduler_polls_the_file(runtime: Runtime) -> None:
    runtime.start()
    try:
        assert runtime.scheduler is not None and runtime.scheduler.get_job("config") is not None
    finally:
        await runtime.stop()


async def test_after_a_restart_the_first_poll_moves_on_what_a_removed_owner_held(
    runtime: Runtime, store: Store, clock: FakeClock, config_file: Path
) -> None:
    esc_id = await assigned_to_ada(runtime)
    # Stopped, the file edited, started again: a new process reads the new file at start.
    rewrite(config_file, WITHOUT_ADA)
    restarted = Runtime(store, directory(WITHOUT_ADA), {}, clock=clock, holder="restarted")
    restarted.config_reloader = ConfigReloader(restarted, config_file)
    assert not await restarted.config_reloader.check()
    esc = await restarted.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "U0BEN"
