"""The composition root: builds the store, service, dispatcher and scheduler once."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage import StaleWrite, Store
from storage.tables import OutboxRow
from workflows.clock import Clock, SystemClock
from workflows.commands import DeliveryFailed
from workflows.decide import Decision
from workflows.delivery import Sender
from workflows.digest import compose, digest_due
from workflows.directory import Directory
from workflows.errors import Refused
from workflows.model import SYSTEM, Escalation, PersonRef, Platform, Status
from workflows.presence import away_now, people_of
from workflows.queries import HOME_IN_USE
from workflows.service import EscalationService

from .dispatcher import Dispatcher
from .metrics import Metrics
from .pacing import Pacer

if TYPE_CHECKING:
    from .reload import ConfigReloader

log = logging.getLogger("escalation_bot.runtime")


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Runtime:
    """Everything one process runs. APScheduler only triggers; the database holds all state."""

    def __init__(
        self,
        store: Store,
        directory: Directory,
        senders: Mapping[Platform, Sender],
        *,
        clock: Clock | None = None,
        holder: str | None = None,
        sweep_interval: float = 5.0,
        dispatch_interval: float = 1.0,
        pacer: Pacer | None = None,
        stuck_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock or SystemClock()
        self.holder = holder or default_holder()
        self.service = EscalationService(store, directory, self.clock, stale_errors=(StaleWrite,))
        # No pacer means no pacing (tests, the demo); the server passes the platforms' limits.
        self.dispatcher = Dispatcher(store, senders, self.clock, holder=self.holder, pacer=pacer or Pacer({}))
        self.sweep_interval = sweep_interval
        self.dispatch_interval = dispatch_interval
        self.scheduler: AsyncIOScheduler | None = None
        self.metrics = Metrics()
        self.dispatcher.observe(self.metrics.delivery)
        self.dispatcher.on_failure(self._delivery_failed)
        self.service.on_commit(self._committed)
        self._dispatch_lock = asyncio.Lock()
        # An undelivered row older than this is logged as stuck (once a minute at most).
        self.stuck_after = stuck_after
        self._stuck_logged_at: datetime | None = None
        self.keep_event_ids = timedelta(days=7)
        self.keep_sent = timedelta(days=30)
        self._sweep_lock = asyncio.Lock()
        # Scheduled runs in flight: stop() lets them finish before the database is closed.
        self._running: dict[str, asyncio.Task[Any]] = {}  # by job name (one run of each at a time)
        self._again: dict[str, datetime] = {}  # jobs woken while running: when to run again
        self._stopping = False
        self.stop_timeout = 40.0  # longer than a delivery's send timeout (30 s)
        # Set by the server: re-reads the configuration file when it changes (and on SIGHUP).
        self.config_reloader: ConfigReloader | None = None
        self.config_poll_interval = 5.0

    def use_directory(self, directory: Directory) -> None:
        """The communities as configured now: open questions use this roster from their next step."""
        self.directory = directory
        self.service.directory = directory

    async def _delivery_failed(self, row: OutboxRow, error: str) -> None:
        """Surface a message lost for good: the requester or the thread is told, and the lead."""
        payload = row.payload
        person = payload.get("person") if row.kind == "notify" else None
        command = DeliveryFailed(
            id=f"failed:{row.idempotency_key}",
            escalation_id=row.escalation_id,
            actor=SYSTEM,
            effect=row.kind,
            notice=payload.get("notice"),
            platform=row.platform,
            target=row.target,
            person=PersonRef.model_validate(person) if person else None,
            error=error[:2000],
            outbox_key=row.idempotency_key,
        )
        try:
            await self.service.handle(command)
        except Refused as refusal:
            log.warning(
                "could not report a failed delivery",
                extra={"escalation_id": row.escalation_id, "reason": refusal.message},
            )

    # --------------------------------------------------------------- jobs

    async def sweep(self) -> int:
        async with self._sweep_lock:
            executed = await self.service.sweep(holder=self.holder)
        await self._schedule_next_sweep()
        return executed

    async def digest(self) -> int:
        """Queue each community's digest once per working day, at or after its time.

        Claiming the (community, day) row and queueing the digest share a transaction, so
        several replicas, or a restart around digest time, still send exactly one.
        """
        queued = 0
        now = self.clock.now()
        for community in self.directory.all():
            day = digest_due(community, now)
            if day is None:
                continue
            async with self.store.unit_of_work() as uow:
                if not await uow.digests.claim(community.key, day.isoformat(), self.holder, now):
                    continue
                last = await uow.digests.last_before(community.key, day.isoformat())
                since = last or now - timedelta(days=1)
                open_now = await uow.escalations.list_by_community(community.key, status=Status.open)
                resolved = await uow.escalations.resolved_between(community.key, since, now)
                week = await uow.escalations.created_between(community.key, now - timedelta(days=7), now)
                # The rotation as it is now: user groups' members and who joined are listed too.
                live = await self.service.live_community(uow, community.key) or community
                away = await away_now(uow, people_of(live), now)
                # Who joined an open rotation themselves (not those the configuration names).
                joined = [p for p, member in await uow.roster_members.of(community.key) if member]
                joined = [p for p in joined if community.open_roster and not community.is_expert(p)]
                digests = compose(live, day, open_now, resolved, week, now, away, joined)
                if digests:
                    await uow.outbox.append(digests[0].escalation_id, 0, digests, now)
                    queued += 1
            log.info("digest", extra={"community": community.key, "day": day.isoformat(), "sent": bool(digests)})
        if queued:
            self._wake("dispatch", datetime.now(UTC))
        return queued

    async def dispatch(self) -> int:
        async with self._dispatch_lock:
            sent = await self.dispatcher.run_once()
        await self._warn_if_stuck()
        return sent

    async def _warn_if_stuck(self) -> None:
        """Like a late timer, an outbox row that waits too long is worth a warning with its age."""
        age = await self.dispatcher.stuck(self.stuck_after)
        if age is None:
            self._stuck_logged_at = None
            return
        now = self.clock.now()
        if self._stuck_logged_at is not None and now - self._stuck_logged_at < timedelta(minutes=1):
            return
        self._stuck_logged_at = now
        async with self.store.unit_of_work() as uow:
            pending = await uow.outbox.list("pending", limit=1)
        row = pending[0] if pending else None
        log.warning(
            "outbox row stuck",
            extra={
                "age_s": round(age, 1),
                "escalation_id": row.escalation_id if row else None,
                "outbox_id": row.id if row else None,
                "attempts": row.attempts if row else None,
                "error": (row.last_error or "")[:300] if row else None,
            },
        )

    async def housekeeping(self) -> dict[str, int]:
        """Forget what is no longer needed, so the tables do not grow without bound: event ids
        older than ``keep_event_ids`` (Slack and Teams re-deliver within minutes, not days) and
        outbox rows delivered longer than ``keep_sent`` ago, App Home tabs unopened for
        longer than ``HOME_IN_USE`` (no longer refreshed anyway). Escalations, the audit trail,
        failed and pending deliveries are never pruned."""
        now = self.clock.now()
        async with self.store.unit_of_work() as uow:
            events = await uow.inbound.prune(now - self.keep_event_ids)
            sent = await uow.outbox.prune_sent(now - self.keep_sent)
            homes = await uow.home_views.prune(now - HOME_IN_USE)
        log.info(
            "housekeeping",
            extra={"event_ids_pruned": events, "outbox_rows_pruned": sent, "home_views_pruned": homes},
        )
        return {"event_ids": events, "outbox_sent": sent, "home_views": homes}

    async def _guarded(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        if self._stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self._running[name] = task
        try:
            await job()
        except Exception:  # a failing run is logged; the next trigger tries again
            log.exception("scheduled job failed", extra={"job": name})
        finally:
            self._running.pop(name, None)
            again = self._again.pop(name, None)
            if again is not None and not self._stopping:
                # Woken while it ran: run again once APScheduler has counted this run as done.
                asyncio.get_running_loop().call_later(0.01, self._wake, name, again)

    def start(self) -> None:
        _quiet_expected_skips()
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs: list[tuple[str, Callable[[], Awaitable[object]], float]] = [
            ("sweep", self.sweep, self.sweep_interval),
            ("dispatch", self.dispatch, self.dispatch_interval),
            ("digest", self.digest, 60.0),
            ("housekeeping", self.housekeeping, 3600.0),
        ]
        if self.config_reloader is not None:
            jobs.append(("config", self.config_reloader.check, self.config_poll_interval))
        for name, run, every in jobs:
            scheduler.add_job(
                self._guarded,
                IntervalTrigger(seconds=every),
                args=(name, run),
                id=name,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self) -> None:
        self._stopping = True
        self.dispatcher.stopping = True
        # Paused, not shut down, while runs finish: APScheduler's shutdown cancels the jobs
        # it is running, which would cut a delivery or a sweep off mid-transaction.
        if self.scheduler is not None:
            self.scheduler.pause()
        # Every run in flight (sweep, dispatch, digest, housekeeping) finishes its transaction
        # first: closing the engine under a running query leaves it waiting forever.
        running = {task for task in self._running.values() if task is not asyncio.current_task()}
        if running:
            _, late = await asyncio.wait(running, timeout=self.stop_timeout)
            for task in late:
                task.cancel()
            if late:
                log.warning("scheduled runs cancelled at shutdown", extra={"runs": len(late)})
                await asyncio.wait(late, timeout=5.0)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        # Let in-flight runs finish their transactions before the engine closes.
        async with self._sweep_lock, self._dispatch_lock:
            pass
        await self.store.close()

    # --------------------------------------------------------------- waking early

    def _wake(self, job_id: str, at: datetime) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        if job_id in self._running:
            # A run is under way: moving its trigger now would only make APScheduler skip
            # (and log) a second instance. Remember the earliest wish for when it ends.
            earlier = self._again.get(job_id)
            self._again[job_id] = at if earlier is None else min(earlier, at)
            return
        job = self.scheduler.get_job(job_id)
        if job is None:
            return
        at = max(at, datetime.now(UTC))
        if job.next_run_time is None or at < job.next_run_time:
            job.modify(next_run_time=at)

    def _committed(self, esc: Escalation, decision: Decision) -> None:
        self.metrics.committed(esc, decision)
        self._wake("dispatch", datetime.now(UTC))
        if esc.next_due_at is not None:
            self._wake("sweep", self._wall_time(esc.next_due_at))

    def _wall_time(self, due: datetime) -> datetime:
        # The service may run on a simulated clock; the scheduler runs on the real one.
        return datetime.now(UTC) + max(due - self.clock.now(), timedelta(0))

    async def _schedule_next_sweep(self) -> None:
        due = await self.service.next_due()
        if due is not None:
            self._wake("sweep", self._wall_time(due))


class _ExpectedSkips(logging.Filter):
    """APScheduler warns each time a trigger finds the previous run of a job still going.
    For these jobs that is expected (one long dispatch under pacing spans many 1 s triggers,
    and the job is woken again when it ends), so those lines would only be noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def _quiet_expected_skips() -> None:
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _ExpectedSkips) for f in scheduler_log.filters):
        scheduler_log.addFilter(_ExpectedSkips())
