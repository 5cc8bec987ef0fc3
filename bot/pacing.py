"""Per-conversation pacing, so bursts stay inside the platforms' published limits.

Sliding windows: a target may receive at most ``count`` messages in any ``window``
seconds, for every (window, count) pair of its platform. Rather than relying on 429
retries, a send waits for the first instant that keeps every window within its count.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from workflows.model import Platform

# Slack: chat.postMessage allows about one message per second per channel (short bursts
# tolerated but unspecified, so none are assumed). Teams: 7 per second and 60 per 30
# seconds per conversation.
PLATFORM_LIMITS: dict[Platform, tuple[tuple[float, int], ...]] = {
    Platform.slack: ((1.0, 1),),
    Platform.teams: ((1.0, 7), (30.0, 60)),
}


@dataclass
class _Target:
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Pacer:
    def __init__(
        self,
        limits: Mapping[Platform, Sequence[tuple[float, int]]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.03,
    ) -> None:
        self.limits = {p: tuple(v) for p, v in (PLATFORM_LIMITS if limits is None else limits).items()}
        self.clock = clock
        # Windows are stretched a little: our clock and the platform's never agree exactly.
        self.margin = margin
        self._targets: dict[tuple[Platform, str], _Target] = {}

    def _target(self, platform: Platform, target: str) -> _Target:
        return self._targets.setdefault((platform, target), _Target())

    def rate(self, platform: Platform) -> float | None:
        """Sustained messages per second one target may receive (None: unlimited)."""
        limits = self.limits.get(platform)
        if not limits:
            return None
        return min(count / window for window, count in limits)

    def delay(self, platform: Platform, target: str) -> float:
        """Seconds until the next send to ``target`` keeps every window within bounds."""
        state = self._target(platform, target)
        now = self.clock()
        wait = max(state.blocked_until - now, 0.0)
        for window, count in self.limits.get(platform, ()):
            window *= 1 + self.margin
            recent = [t for t in state.sent if t > now - window]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + window - now)
        return wait

    def lock(self, platform: Platform, target: str) -> asyncio.Lock:
        """Held around pacing and sending, so sends to one target never overlap."""
        return self._target(platform, target).lock

    async def wait_turn(self, platform: Platform, target: str) -> None:
        """Wait until a send to ``target`` is allowed; then ``record`` it as it starts."""
        # The delay is computed afresh after each sleep: a back-off may have arrived meanwhile.
        while (pause := self.delay(platform, target)) > 0:  # noqa: ASYNC110 - waiting on time, not on an event
            await asyncio.sleep(pause)

    def record(self, platform: Platform, target: str) -> None:
        state = self._target(platform, target)
        now = self.clock()
        state.sent.append(now)
        longest = max((w for w, _ in self.limits.get(platform, ())), default=0.0)
        while state.sent and state.sent[0] <= now - longest * (1 + self.margin):
            state.sent.popleft()

    def back_off(self, platform: Platform, target: str, seconds: float) -> None:
        """The platform said 'slow down' for this target: nothing goes there for a while."""
        state = self._target(platform, target)
        state.blocked_until = max(state.blocked_until, self.clock() + seconds)
