"""`serve` as a real process, and the scheduler waking early for a near timer."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.runtime import Runtime
from storage import Store
from tests.support import SAM, RecordingSender, directory
from workflows.delivery import Delivered, DeliveryContext
from workflows.effects import Effect
from workflows.model import Platform

ROOT = Path(__file__).resolve().parents[1]

QUICK = """
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA", "slack:U0BEN"]
    policy: {nudge_after: 1s}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("choice", "loop"), [("auto", "uvloop"), ("asyncio", "asyncio")])
async def test_serve_answers_health_and_stops_cleanly_on_sigterm(
    database_url: str, tmp_path: Path, choice: str, loop: str
) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop", reason="uvloop is not installed on this platform (Windows)")
    config = tmp_path / "escalation.yaml"
    config.write_text(QUICK)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "ESCALATION_CONFIG": str(config),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "EVENT_LOOP": choice,
    }
    proc = subprocess.Popen(  # noqa: ASYNC220 - a real server process is the point of this test
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        body = await response.json()
                        assert response.status == 200, body
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.poll() is None, proc.communicate()[1]
                    assert time.monotonic() < deadline, "serve did not become ready in 30 s"
                    await asyncio.sleep(0.2)
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            # No identity provider is configured: serve prints a one-time link to the console.
            assert proc.stdout is not None
            line = await asyncio.to_thread(proc.stdout.readline)
            assert line.startswith("web console: sign in as Operator at http://localhost:"), line
            link = line.split(" at ", 1)[1].split()[0].replace("localhost", "127.0.0.1")
            async with http.get(link, allow_redirects=False) as response:
                assert response.status == 302 and response.headers["Location"] == "/console/"
            async with http.get(f"http://127.0.0.1:{port}/", allow_redirects=False) as response:
                assert response.headers["Location"] == "/console/"
            # The loop's lag is watched from the start: /metrics has observed some by now.
            await asyncio.sleep(0.3)
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
            [count] = [
                line for line in metrics.splitlines() if line.startswith("escalation_event_loop_lag_seconds_count")
            ]
            assert float(count.split()[-1]) > 0, count
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=30)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert '"event": "shutting down"' in stderr
        # Start-up's objects are kept out of the collector's full passes.
        [listening] = [json.loads(line) for line in stderr.splitlines() if '"event": "listening"' in line]
        assert listening["gc_frozen"] > 10_000
        assert listening["event_loop"] == loop
        assert listening["port"] == port  # read from the bound socket
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".lock")]  # a stopped serve leaves none
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_scheduler_wakes_early_for_a_timer_sooner_than_the_sweep_interval(database_url: str) -> None:
    sender = RecordingSender()
    runtime = Runtime(
        Store(database_url),
        directory(QUICK),
        {Platform.slack: sender},
        sweep_interval=3600,  # without waking early, the nudge would wait an hour
        dispatch_interval=3600,
    )
    runtime.start()
    try:
        await asyncio.sleep(0.3)  # the first sweep and dispatch runs, at start, find nothing
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
        assert esc is not None
        deadline = time.monotonic() + 20
        while "thread_reply" not in sender.kinds(esc.id):
            assert time.monotonic() < deadline, f"no nudge delivered; got {sender.kinds(esc.id)}"
            await asyncio.sleep(0.1)
        assert sender.kinds(esc.id)[0] == "post_card"
    finally:
        await runtime.stop()


async def test_a_second_serve_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(QUICK)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    base = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "ESCALATION_CONFIG": str(config)}
    first = subprocess.Popen(  # noqa: ASYNC220 - real processes are the point
        [sys.executable, "-m", "bot.cli", "serve", "--migrate"],
        env={**base, "PORT": str(free_port()), "HOST": "127.0.0.1"},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "bot.db.lock").exists() or not (tmp_path / "bot.db.lock").read_text():
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        second = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli", "serve"],
            env={**base, "PORT": str(free_port()), "HOST": "127.0.0.1"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"pid {first.pid}" in second.stderr
        assert "SQLite supports one process" in second.stderr
        assert first.poll() is None  # the first one is undisturbed
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)


async def test_stop_lets_the_scheduled_runs_in_flight_finish_before_closing_the_database(database_url: str) -> None:
    """Stopping right after starting: the first sweep, dispatch, digest and housekeeping runs
    are under way. stop() must wait for them; closing the engine under a running query left
    the process hanging at exit (seen in the timer benchmark's workers)."""
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: RecordingSender()})
    runtime.start()
    for _ in range(50):
        await asyncio.sleep(0)
        if len(runtime._running) >= 2:
            break
    in_flight = set(runtime._running.values())
    assert in_flight, "no scheduled run had started"
    await asyncio.wait_for(runtime.stop(), timeout=20)
    assert all(task.done() and not task.cancelled() for task in in_flight)
    assert not runtime._running


class SlowSender(RecordingSender):
    """Takes half a second to deliver, as a slow platform would."""

    started: asyncio.Event | None = None

    async def deliver(self, effect, context):  # type: ignore[no-untyped-def]
        if self.started is not None:
            self.started.set()
        await asyncio.sleep(0.5)
        return await super().deliver(effect, context)


async def test_a_delivery_in_flight_at_stop_is_finished_and_marked_sent(database_url: str) -> None:
    sender = SlowSender()
    sender.started = asyncio.Event()
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender})
    await runtime.service.open(requester=SAM, community_key="sdk", question="q")
    runtime.start()
    await asyncio.wait_for(sender.started.wait(), timeout=10)
    await asyncio.wait_for(runtime.stop(), timeout=20)
    assert "post_card" in sender.kinds()
    store = Store(database_url)
    try:
        async with store.unit_of_work() as uow:
            rows = await uow.outbox.list(None)
        assert [r.status for r in rows if r.kind == "post_card"] == ["sent"]
    finally:
        await store.close()


class GatedSender(RecordingSender):
    """Holds every delivery until ``gate`` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        self.waiting.set()
        await self.gate.wait()
        return await super().deliver(effect, context)


async def test_a_wake_during_a_run_runs_the_job_again_after_it_without_skip_warnings(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    sender = GatedSender()
    runtime = Runtime(
        Store(database_url), directory(), {Platform.slack: sender}, sweep_interval=3600, dispatch_interval=3600
    )
    runtime.start()
    try:
        with caplog.at_level(logging.INFO):
            await runtime.service.open(requester=SAM, community_key="sdk", question="first")
            await asyncio.wait_for(sender.waiting.wait(), timeout=10)  # the dispatch run is under way
            second = (await runtime.service.open(requester=SAM, community_key="sdk", question="second")).escalation
            assert second is not None
            assert "dispatch" in runtime._again  # the commit's wake-up waits for the run to end
            sender.gate.set()
            deadline = time.monotonic() + 10
            while "post_card" not in sender.kinds(second.id):
                assert time.monotonic() < deadline, "the second card waited for the next interval (an hour)"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
        assert runtime._again == {}
        assert not [r for r in caplog.records if "maximum number of running instances" in r.getMessage()]
    finally:
        await runtime.stop()
