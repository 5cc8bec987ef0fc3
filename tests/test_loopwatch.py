"""The event loop's lag is measured, and a stall is logged with what held the loop."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.loopwatch import LoopWatch


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # what a long render or a synchronous call does to every request


async def test_a_stall_is_logged_once_with_its_length_and_the_stack_that_held_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lags: list[float] = []
    watch = LoopWatch(lags.append, interval=0.02, stall_after=0.1)
    watch.start()
    try:
        await asyncio.sleep(0.1)
        with caplog.at_level(logging.WARNING, logger="escalation_bot.loop"):
            _hold_the_loop(0.4)
            await asyncio.sleep(0.1)
    finally:
        await watch.stop()
    [stall] = [r for r in caplog.records if r.getMessage() == "event loop blocked"]
    assert 350 <= stall.__dict__["blocked_ms"] < 1000
    assert any(frame.endswith(" _hold_the_loop") for frame in stall.__dict__["stack"]), stall.__dict__["stack"]
    assert any(
        frame.endswith(" test_a_stall_is_logged_once_with_its_length_and_the_stack_that_held_the_loop")
        for frame in stall.__dict__["stack"]
    )
    assert watch.stalls == 1
    # The histogram saw the stall and the quiet ticks around it.
    assert max(lags) >= 0.35
    assert sum(1 for lag in lags if lag < 0.05) >= 3


async def test_a_loop_that_yields_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    lags: list[float] = []
    watch = LoopWatch(lags.append, interval=0.02, stall_after=0.1)
    watch.start()
    try:
        with caplog.at_level(logging.WARNING, logger="escalation_bot.loop"):
            for _ in range(20):
                _hold_the_loop(0.01)  # short stretches, each well under the threshold
                await asyncio.sleep(0.01)
    finally:
        await watch.stop()
    assert not [r for r in caplog.records if r.getMessage() == "event loop blocked"]
    assert watch.stalls == 0
    assert lags and max(lags) < 0.1


async def test_stop_ends_the_task_and_the_thread() -> None:
    watch = LoopWatch(interval=0.02, stall_after=0.1)
    watch.start()
    thread = watch._thread
    await asyncio.sleep(0.05)
    await watch.stop()
    assert thread is not None and not thread.is_alive()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "loop-watch"]


def test_the_stall_threshold_must_exceed_the_interval() -> None:
    with pytest.raises(ValueError, match="interval < stall_after"):
        LoopWatch(interval=0.1, stall_after=0.1)
