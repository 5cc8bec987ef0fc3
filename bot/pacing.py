"""Per-conversation pacing, so bursts stay inside the platforms' published limits.

Sliding windows: a target may receive at most ``count`` messages in any ``window``
seconds, for every (window, count) pair of its platform. Rather than relying on 429
retries, a send waits for the first instant that keeps every window within its count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from storage import Store
from workflows.model import Platform

log = logging.getLogger("escalation_bot.pacing")

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
        return max(state.blocked_until - now, self._window_wait(platform, state.sent, now), 0.0)

    def _window_wait(self, platform: Platform, sent: Iterable[float], now: float) -> float:
        """Seconds from ``now`` until one more send after ``sent`` keeps every window within its count."""
        wait = 0.0
        times = list(sent)
        for window, count in self.limits.get(platform, ()):
            window *= 1 + self.margin
            recent = [t for t in times if t > now - window]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + window - now)
        return wait

    def _longest(self, platform: Platform) -> float:
        return max((w for w, _ in self.limits.get(platform, ())), default=0.0) * (1 + self.margin)

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
        longest = self._longest(platform)
        while state.sent and state.sent[0] <= now - longest:
            state.sent.popleft()

    def back_off(self, platform: Platform, target: str, seconds: float) -> None:
        """The platform said 'slow down' for this target: nothing goes there for a while."""
        state = self._target(platform, target)
        state.blocked_until = max(state.blocked_until, self.clock() + seconds)

    @asynccontextmanager
    async def turn(self, platform: Platform, target: str) -> AsyncIterator[Turn]:
        """One send to ``target``: waits for its turn, and counts it when the call has answered
        (``Turn.arrived``, at the latest when the block ends). Sends to one target never overlap."""
        async with self.lock(platform, target):
            await self.wait_turn(platform, target)
            turn = Turn(self, platform, target)
            try:
                yield turn
            finally:
                turn.arrived()


class Turn:
    """A send under way: the sender says when its call answered; a 429 says to back off."""

    def __init__(self, pacer: Pacer, platform: Platform, target: str) -> None:
        self.pacer = pacer
        self.platform = platform
        self.target = target
        self.arrived_at: float | None = None  # by the pacer's clock (wall-clock for the shared record)
        self.blocked_for: float = 0.0

    def arrived(self) -> None:
        # Counted when the call has answered, not when it started: the platform counts
        # arrivals, and a request held up on its way (a busy process, a slow network) could
        # otherwise arrive less than the window after the one before it and be refused.
        if self.arrived_at is None:
            self.arrived_at = self.pacer.clock()
            self.pacer.record(self.platform, self.target)

    def back_off(self, seconds: float) -> None:
        """The platform said 'slow down' for this target: nothing goes there for a while."""
        self.blocked_for = max(self.blocked_for, seconds)
        self.pacer.back_off(self.platform, self.target, seconds)


class SharedPacer(Pacer):
    """Pacing across replicas (PostgreSQL): the limits belong to the channel, not the process.

    Each conversation's recent arrivals and the earliest time of its next send live in the
    database (``storage.pacing``). A replica takes the turn with one conditional update (free
    when that time has passed and no other replica's send is in flight), sends, and gives the
    turn back with the arrival and the next earliest time (the windows, or a platform's
    ``Retry-After``). A replica that dies mid-send holds the turn ``busy_for`` seconds at most.
    Waiting is done outside any transaction. Times are wall-clock seconds: replicas' clocks are
    assumed NTP-close (a skew narrows the spacing by as much; the 3% margin covers tens of
    milliseconds).
    """

    def __init__(
        self,
        store: Store,
        holder: str,
        limits: Mapping[Platform, Sequence[tuple[float, int]]] | None = None,
        *,
        wall: Callable[[], float] = time.time,
        margin: float = 0.03,
        busy_for: float = 5.0,
        poll: float = 0.05,
    ) -> None:
        super().__init__(limits, clock=wall, margin=margin)
        self.store = store
        self.holder = holder
        self.wall = wall
        self.busy_for = busy_for
        self.poll = poll

    @asynccontextmanager
    async def turn(self, platform: Platform, target: str) -> AsyncIterator[Turn]:
        if not self.limits.get(platform):
            async with super().turn(platform, target) as turn:
                yield turn
            return
        async with self.lock(platform, target):
            # This replica's own last sends, known here: waiting them out first spares the
            # database a turn asked for too early (the other replicas' are checked there).
            await self.wait_turn(platform, target)
            recent = await self._take(platform, target)
            turn = Turn(self, platform, target)
            try:
                yield turn
            finally:
                turn.arrived()
                await asyncio.shield(self._give_back(turn, recent))

    async def _take(self, platform: Platform, target: str) -> list[float]:
        while True:
            now = self.wall()
            async with self.store.statements() as uow:
                recent = await uow.pacing.take(platform.value, target, self.holder, now, now + self.busy_for)
                if recent is not None:
                    return recent
                next_at = await uow.pacing.next_at(platform.value, target)
            if next_at is None:
                continue  # a conversation never sent to: just created, free
            wait = next_at - self.wall()
            # Not due yet: sleep until it is. Due, yet not free: another replica's send is in
            # flight; it gives the turn back when its call answers, so look again soon.
            await asyncio.sleep(wait if wait > 0 else self.poll)

    async def _give_back(self, turn: Turn, recent: list[float]) -> None:
        platform, target = turn.platform, turn.target
        arrived = turn.arrived_at if turn.arrived_at is not None else self.wall()
        keep = max((count for _, count in self.limits.get(platform, ())), default=0)
        horizon = arrived - self._longest(platform)
        recent = sorted(t for t in (*recent, arrived) if t > horizon)[-keep:]
        next_at = arrived + self._window_wait(platform, recent, arrived)
        if turn.blocked_for:
            next_at = max(next_at, self.wall() + turn.blocked_for)
        try:
            async with self.store.statements() as uow:
                given = await uow.pacing.give_back(platform.value, target, self.holder, recent, next_at)
            if not given:
                async with self.store.unit_of_work() as uow:
                    await uow.pacing.merge(platform.value, target, arrived, next_at, keep)
        except Exception:  # the send is done; an unrecorded arrival only frees the turn later
            log.warning("pacing not recorded", exc_info=True, extra={"platform": platform.value, "target": target})
