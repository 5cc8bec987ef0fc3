"""The outbox dispatcher: at-least-once delivery, in order per escalation."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from storage import Store, effect_of
from storage.tables import OutboxRow
from workflows.clock import Clock
from workflows.delivery import (
    DeliveryContext,
    PermanentDeliveryError,
    Sender,
    TransientDeliveryError,
)
from workflows.model import MessageRef, Platform

from .marks import SentMarks
from .pacing import Pacer

log = logging.getLogger("escalation_bot.dispatcher")


class Dispatcher:
    def __init__(
        self,
        store: Store,
        senders: Mapping[Platform, Sender],
        clock: Clock,
        *,
        holder: str,
        batch: int = 100,
        lease: timedelta = timedelta(seconds=120),
        concurrency: int = 16,
        max_attempts: int = 12,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        pacer: Pacer | None = None,
        send_timeout: float = 30.0,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.clock = clock
        self.holder = holder
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        # A call that hangs must not hold its escalation's queue until the lease runs out: it is
        # abandoned and retried (as a retry, so a platform that can tell looks for the message first).
        self.send_timeout = send_timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._marks = SentMarks(store, holder)
        self.pacer = pacer if pacer is not None else Pacer()
        self.reclaim_after = 1.0
        self.stopping = False  # set at shutdown: finish what is under way, claim nothing new
        self._observers: list[Callable[[str, str], None]] = []
        self._on_failure: list[Callable[[OutboxRow, str], Awaitable[None]]] = []

    def on_failure(self, handler: Callable[[OutboxRow, str], Awaitable[None]]) -> None:
        """Called after a row has failed for good (permanent error, or retries exhausted)."""
        self._on_failure.append(handler)

    def observe(self, observer: Callable[[str, str], None]) -> None:
        """Told (platform, outcome) for each attempt: sent, retry or failed."""
        self._observers.append(observer)

    def _count(self, platform: str, outcome: str) -> None:
        for observer in self._observers:
            observer(platform, outcome)

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential with full jitter; never sooner than the platform asked."""
        ceiling = min(self.max_backoff, self.base_backoff * (2 ** max(attempts - 1, 0)))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)

    async def run_once(self) -> int:
        """Deliver everything deliverable now; returns how many effects were sent.

        Rows are claimed again while earlier deliveries are still under way (when half the
        batch is done, or every ``reclaim_after`` seconds): one call that hangs, or one channel's
        paced queue, must not hold back every other channel's new rows and retries. Unless the
        last claim was full and kept every row, the next one waits for ``reclaim_after`` (or
        for the last delivery under way): when pacing gave rows back, or nothing more was
        deliverable, claiming on every delivery done read the same rows again and again, a
        cost that grows with the backlog and that the acknowledgements pay for on the same
        CPU (bench/README.md, the eleventh pass)."""
        sent = 0
        in_flight: dict[asyncio.Task[bool], tuple[str, str]] = {}
        claimed_at: float | None = None
        more = False  # the last claim was full and kept every row: more may be waiting
        try:
            while True:
                room = self.batch - len(in_flight)
                due = claimed_at is None or time.monotonic() - claimed_at >= self.reclaim_after
                half_done = len(in_flight) <= self.batch // 2 and more
                if room > 0 and not self.stopping and (due or half_done or not in_flight):
                    claimed_at = time.monotonic()
                    claimed, more = await self._claim(room, Counter(in_flight.values()))
                    for row, refs in claimed:
                        task = asyncio.create_task(self._deliver(row, refs))
                        in_flight[task] = (row.platform, row.target)
                    if not in_flight:
                        return sent
                elif not in_flight:
                    return sent
                done, _ = await asyncio.wait(in_flight, timeout=self.reclaim_after, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    del in_flight[task]
                    sent += task.result()
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _claim(
        self, limit: int, queued: Counter[tuple[str, str]]
    ) -> tuple[list[tuple[OutboxRow, list[tuple[str, MessageRef, Any]]]], bool]:
        """The rows to deliver now, with their escalations' references; and whether more may
        be waiting (``limit`` rows were claimed and pacing gave none back)."""
        async with self.store.unit_of_work() as uow:
            rows = await uow.outbox.claim(self.clock.now(), limit, self.holder, self.lease)
            # Only the head of each escalation's queue is claimed, so no other delivery
            # can add to these escalations' references before ours are sent.
            refs = await uow.messages.for_escalations(sorted({row.escalation_id for row in rows})) if rows else {}
        if not rows:
            return [], False
        kept = await self._within_lease(rows, queued)
        return [(row, refs.get(row.escalation_id, [])) for row in kept], len(rows) == limit == len(kept)

    async def _within_lease(self, rows: list[OutboxRow], queued: Counter[tuple[str, str]]) -> list[OutboxRow]:
        """Keep per target only what pacing lets us send well before the lease runs out (counting
        the deliveries already queued there); the rest goes back untouched for the next round
        (or replica)."""
        kept: list[OutboxRow] = []
        per_target: Counter[tuple[str, str]] = Counter(queued)
        released: list[int] = []
        for row in rows:
            rate = self.pacer.rate(Platform(row.platform)) if row.platform in Platform._value2member_map_ else None
            cap = max(1, int(self.lease.total_seconds() / 3 * rate)) if rate else len(rows) + sum(queued.values())
            key = (row.platform, row.target)
            per_target[key] += 1
            if per_target[key] <= cap:
                kept.append(row)
            else:
                released.append(row.id)
        if released:
            async with self.store.unit_of_work() as uow:
                await uow.outbox.release(released, self.holder)
        return kept

    async def _deliver(self, row: OutboxRow, refs: list[tuple[str, MessageRef, Any]]) -> bool:
        extra = {"escalation_id": row.escalation_id, "outbox_id": row.id, "effect": row.kind}
        try:
            effect = effect_of(row)
        except ValueError as exc:
            await self._fail(row, f"unreadable effect: {exc}")
            return False
        about = getattr(effect, "about", None)
        if about is not None and await self._delivered_since(row, about):
            return False
        sender = self.senders.get(Platform(row.platform))
        if sender is None:
            await self._fail(row, f"no sender configured for platform {row.platform}")
            log.error("no sender for platform", extra={**extra, "platform": row.platform})
            return False
        # Counted under the platform that actually sent it: a console standing in for Slack
        # (serve with no platform set up, the demo) prints; it sends nothing to Slack.
        label = sender.platform.value
        # The claim query loaded the row as it was: a lease still set means a holder took it and
        # never settled it (killed, or too slow), so the platform may already have the message.
        retrying = row.attempts > 0 or row.lease_until is not None
        platform = Platform(row.platform)
        if retrying:
            log.info(
                "delivery retried",
                extra={**extra, "attempts": row.attempts, "lease_expired": row.lease_until is not None},
            )
        try:
            async with self.pacer.turn(platform, row.target) as turn:
                context = DeliveryContext(
                    row.escalation_id,
                    refs,
                    row.idempotency_key,
                    retrying=retrying,
                    queued_at=row.created_at,
                    arrived=turn.arrived,
                )
                async with self._slots:
                    try:
                        async with asyncio.timeout(self.send_timeout):
                            delivered = await sender.deliver(effect, context)
                    except TimeoutError:
                        raise TransientDeliveryError(
                            f"no answer within {self.send_timeout:g}s", code="timeout"
                        ) from None
                    except TransientDeliveryError as exc:
                        if exc.retry_after:
                            turn.back_off(exc.retry_after)
                        raise
        except TransientDeliveryError as exc:
            return await self._retry(row, exc.code, str(exc), exc.retry_after, extra, label)
        except PermanentDeliveryError as exc:
            await self._fail(row, f"{exc.code}: {exc}", label)
            log.error("delivery failed permanently", extra={**extra, "error": exc.code})
            return False
        except Exception as exc:  # an unexpected bug must not stop the queue: retry, loudly
            log.exception("delivery raised", extra=extra)
            return await self._retry(row, type(exc).__name__, str(exc), None, extra, label)
        marked = await self._marks.mark(row, delivered, self.clock.now())
        if not marked:
            log.warning("outbox lease lost before marking sent", extra=extra)
        self._count(label, "sent")
        return True

    async def _delivered_since(self, row: OutboxRow, failed_key: str) -> bool:
        """A failure notice whose failed message has been delivered since (an admin's ``outbox
        retry`` went first: same escalation, older row) is settled unsent: the failure is fixed.
        Checked here, at delivery, because only here is "since" known."""
        async with self.store.unit_of_work() as uow:
            if await uow.outbox.status_of(failed_key) != "sent":
                return False
            await uow.outbox.mark_sent(row.id, self.holder, self.clock.now(), {"dropped": "delivered since"})
        log.info(
            "failure notice dropped: the failed message was delivered since",
            extra={"escalation_id": row.escalation_id, "outbox_id": row.id, "key": failed_key},
        )
        return True

    async def _retry(
        self,
        row: OutboxRow,
        code: str,
        message: str,
        retry_after: float | None,
        extra: dict[str, object],
        label: str,
    ) -> bool:
        attempts = row.attempts + 1
        self._count(label, "retry")
        if attempts >= self.max_attempts:
            await self._fail(row, f"gave up after {attempts} attempts: {code}: {message}", label)
            log.error("delivery gave up", extra={**extra, "error": code, "attempts": attempts})
            return False
        delay = self.backoff(attempts, retry_after)
        async with self.store.unit_of_work() as uow:
            await uow.outbox.mark_retry(
                row.id, self.holder, self.clock.now() + timedelta(seconds=delay), f"{code}: {message}"
            )
        log.info("delivery retry", extra={**extra, "error": code, "retry_in_s": round(delay, 2), "attempts": attempts})
        return False

    async def _fail(self, row: OutboxRow, error: str, label: str | None = None) -> None:
        self._count(label or row.platform, "failed")
        async with self.store.unit_of_work() as uow:
            await uow.outbox.mark_failed(row.id, self.holder, error)
        for handler in self._on_failure:
            try:
                await handler(row, error)
            except Exception:  # reporting a failure must never stop delivery
                log.exception("failure handler raised", extra={"escalation_id": row.escalation_id, "outbox_id": row.id})

    async def stuck(self, threshold: timedelta) -> float | None:
        """Age in seconds of the oldest undelivered row, if older than ``threshold``."""
        async with self.store.unit_of_work() as uow:
            oldest = await uow.outbox.oldest_pending()
        if oldest is None:
            return None
        age = (self.clock.now() - oldest).total_seconds()
        return age if age > threshold.total_seconds() else None

    async def next_attempt_delay(self) -> float | None:
        async with self.store.unit_of_work() as uow:
            when = await uow.outbox.next_attempt()
        if when is None:
            return None
        return max((when - self.clock.now()).total_seconds(), 0.0)
