"""How late the event loop runs what is due, and what held it when it was very late.

Everything in ``serve`` shares one event loop: Slack's 3-second acknowledgement, Teams' 15
seconds, the timers and the outbox. One stretch of work that does not yield (a big
render, the collector's full pass, a slow synchronous call) delays every request waiting
behind it, and nothing else in the process would show it. ``LoopWatch`` measures that
lag for ``/metrics`` and logs each stall with the stack that was running during it.

Two parts:
- a task on the loop that asks to wake every ``interval`` and observes how late it woke
  (the lag, for the ``escalation_event_loop_lag_seconds`` histogram);
- a daemon thread that, while the task is overdue by more than ``stall_after``, samples the
  loop thread's stack (``sys._current_frames``). When the loop comes back, the task logs
  one warning: how long it was held, and the stack seen most often.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable

log = logging.getLogger("escalation_bot.loop")

# Frames from these files are the loop's own machinery, not the work: left out of a sampled stack.
_PLUMBING = ("asyncio/", "selectors.py", "threading.py")
STACK_FRAMES = 25


class LoopWatch:
    def __init__(
        self,
        observe: Callable[[float], None] = lambda _lag: None,
        *,
        interval: float = 0.05,
        stall_after: float = 0.25,
    ) -> None:
        if interval <= 0 or stall_after <= interval:
            raise ValueError("LoopWatch needs 0 < interval < stall_after")
        self.observe = observe
        self.interval = interval
        self.stall_after = stall_after
        self.stalls = 0  # logged since start (the tests read it)
        self._beat = time.monotonic()  # when the task last ran: written by the loop, read by the thread
        self._samples: list[tuple[str, ...]] = []
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._loop_thread = 0

    def start(self) -> None:
        """Start watching the running loop (call from it)."""
        if self._task is not None:
            return
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._done.clear()
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="loop-watch")
        self._thread = threading.Thread(target=self._sample, name="loop-watch", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._done.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, 1.0)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - asked - self.interval)
            self._beat = time.monotonic()
            self.observe(lag)
            if lag >= self.stall_after:
                self._report(lag)
            elif self._samples:
                with self._lock:
                    self._samples.clear()

    def _report(self, lag: float) -> None:
        with self._lock:
            samples, self._samples = self._samples, []
        self.stalls += 1
        common = collections.Counter(samples).most_common(1)
        stack, seen = common[0] if common else ((), 0)
        log.warning(
            "event loop blocked",
            extra={
                "blocked_ms": round(lag * 1000),
                "stack": list(stack),
                "stack_seen": f"{seen} of {len(samples)} samples",
            },
        )

    def _sample(self) -> None:
        """The watchdog thread: samples the loop thread's stack while the loop is held."""
        while not self._done.wait(self.interval):
            if time.monotonic() - self._beat < self.stall_after:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            stack = tuple(
                f"{entry.filename.rsplit('/site-packages/', 1)[-1]}:{entry.lineno} {entry.name}"
                for entry in traceback.extract_stack(frame)
                if not any(part in entry.filename for part in _PLUMBING)
            )[-STACK_FRAMES:]
            with self._lock:
                if len(self._samples) < 200:
                    self._samples.append(stack)
