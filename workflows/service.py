"""``EscalationService``: one transaction per command (timer steps: several to one), effects
into the outbox.

The service is the only caller of ``decide``. It loads the escalation (locked), adds
what ``decide`` needs from outside the escalation (the community's configuration, the
rotation's memory and load), saves the result, appends the effects to the outbox,
records the inbound event id, and commits. Platform calls happen later, elsewhere.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock
from .commands import BaseCommand, MoveOn, Open, Tick
from .decide import Decision, decide
from .decide_inputs import live_community, needs_roster, with_found_before, with_live_roster, with_roster
from .deliveries import Deliveries
from .directory import Directory, is_admin
from .errors import Reason, Refused
from .model import SYSTEM, Community, Escalation, MessageRef, PersonRef, Priority, Status, Step
from .ports import Scope, StorePort
from .presence import Presence
from .queries import Queries
from .user_groups import UserGroups

log = logging.getLogger("escalation_bot.service")

_ROTATING_ACTIONS = {"auto_assigned", "auto_reassigned", "assigned", "reassigned", "declined"}
_MAX_ATTEMPTS = 5
# Timer steps per transaction in a sweep.
SWEEP_BATCH = 50


@dataclass
class Outcome:
    escalation: Escalation | None
    decision: Decision | None = None
    duplicate: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.decision and self.decision.changed)


@dataclass(frozen=True)
class Found:
    """A command and what the transaction that runs it has already read: ``current``, the
    escalation it changes, read locked and in scope (not read again); ``new``, an open
    under an id made for it this moment (no escalation can have it: nothing to read)."""

    command: BaseCommand
    current: Escalation | None = None
    new: bool = False


def new_escalation_id() -> str:
    return uuid.uuid4().hex


class EscalationService(Queries):
    def __init__(
        self,
        store: StorePort,
        directory: Directory,
        clock: Clock,
        *,
        stale_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock
        self._stale_errors = stale_errors
        self._listeners: list[Callable[[Escalation, Decision], None]] = []
        self.presence = Presence(self)
        self.deliveries = Deliveries(self)
        self.user_groups = UserGroups(self)

    def on_commit(self, listener: Callable[[Escalation, Decision], None]) -> None:
        """Called after each committed change (wakes the dispatcher and the sweeper)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------ commands

    async def open(
        self,
        *,
        requester: PersonRef,
        community_key: str,
        question: str,
        priority: Priority = Priority.normal,
        customer: str | None = None,
        link: str | None = None,
        source: MessageRef | None = None,
        source_thread: str | None = None,
        event: tuple[str, str] | None = None,
        escalation_id: str | None = None,
    ) -> Outcome:
        command = Open(
            id=f"{event[0]}:{event[1]}" if event else f"open:{uuid.uuid4().hex}",
            escalation_id=escalation_id or new_escalation_id(),
            actor=requester,
            tenant=f"{requester.platform.value}:{requester.tenant}",
            community_key=community_key,
            question=question,
            priority=priority,
            customer=customer,
            link=link,
            source=source,
            source_thread=source_thread,
        )
        # An id made here is new: no escalation can have it, so there is nothing to look up.
        return await self._run(Found(self._resolve_community(command), new=escalation_id is None), None, event)

    async def handle(
        self,
        command: BaseCommand,
        *,
        scope: Scope | None = None,
        event: tuple[str, str] | None = None,
    ) -> Outcome:
        """Apply one command. Raises ``Refused`` with a sentence for its sender."""
        if isinstance(command, Open):
            command = self._resolve_community(command)
        return await self._run(Found(command), scope, event)

    async def _run(self, found: Found, scope: Scope | None, event: tuple[str, str] | None) -> Outcome:
        async def the_command(_: Any) -> Found:
            return found

        outcome = await self._attempts(the_command, scope, event)
        assert outcome is not None
        return outcome

    async def handle_on_card(
        self,
        platform: str,
        channel: str,
        message_id: str,
        command_for: Callable[[Escalation], BaseCommand | None],
        *,
        scope: Scope,
        event: tuple[str, str] | None = None,
        kind: str | None = "card",
    ) -> Outcome | None:
        """A reply or reaction on a message: finds the escalation whose question card it is
        (``kind=None``: any message it posted) and applies ``command_for(escalation)``, in one
        transaction. None when the message is not one of them in ``scope``, or
        ``command_for`` makes no command of it."""

        async def on_card(uow: Any) -> Found | None:
            # Read locked: it is the escalation the command changes, so it is not read twice.
            esc = await uow.escalations.find_by_message(platform, channel, message_id, scope, kind, lock=True)
            command = command_for(esc) if esc is not None else None
            return Found(command, current=esc) if command is not None else None

        return await self._attempts(on_card, scope, event)

    async def _attempts(
        self,
        command_in: Callable[[Any], Awaitable[Found | None]],
        scope: Scope | None,
        event: tuple[str, str] | None,
    ) -> Outcome | None:
        """One transaction: the command ``command_in`` finds in it, decided and written; again
        from the start when another writer changed the escalation first."""
        command: BaseCommand | None = None
        for attempt in range(_MAX_ATTEMPTS):
            try:
                async with self.store.unit_of_work() as uow:
                    found = await command_in(uow)
                    if found is None:
                        return None
                    command = found.command
                    outcome = await self._apply(uow, found, scope, event, self.clock.now())
            except self._stale_errors:
                escalation_id = command.escalation_id if command is not None else None
                log.info("stale write, retrying", extra={"escalation_id": escalation_id, "attempt": attempt})
                continue
            self._log_change(outcome, command, event)
            if outcome.changed and outcome.escalation is not None and outcome.decision is not None:
                for listener in self._listeners:
                    listener(outcome.escalation, outcome.decision)
            return outcome
        raise Refused(Reason.conflict, "The escalation is changing quickly; please try again.")

    def _resolve_community(self, command: Open) -> Open:
        community = self.directory.get(command.community_key.strip().lower())
        if community is None:
            known = ", ".join(c.key for c in self.directory.all()) or "none configured"
            raise Refused(
                Reason.unknown_community,
                f"There is no community called {command.community_key!r}. Known communities: {known}.",
            )
        return command.model_copy(update={"community": community, "community_key": community.key})

    async def _apply(
        self, uow: Any, found: Found, scope: Scope | None, event: tuple[str, str] | None, now: datetime
    ) -> Outcome:
        """Decide ``found.command`` and write the result inside ``uow`` (the caller commits),
        reading only what ``found`` does not already hold."""
        command = self._with_role(found.command)
        read = found.current if found.current is not None and found.current.id == command.escalation_id else None
        # Recording the event id first is the duplicate check (one statement, not two); a
        # refusal below rolls it back with everything else.
        if event is not None and not await uow.inbound.record(*event, now):
            existing = read if read is not None else await uow.escalations.get(command.escalation_id, scope)
            return Outcome(existing, duplicate=True)
        current: Escalation | None = None
        if not isinstance(command, Open):
            current = read if read is not None else await uow.escalations.get(command.escalation_id, scope, lock=True)
            if current is None:
                raise Refused(Reason.not_found, "That escalation does not exist, or is not visible to you.")
            current = with_live_roster(current, await self.live_community(uow, current.community.key))
            if needs_roster(command, current):
                command = await with_roster(uow, command, current, now)
        else:
            existing = None if found.new else await uow.escalations.get(command.escalation_id)
            if existing is not None:
                current = existing
            elif command.community is not None and (command.community.open_roster or command.community.user_groups):
                # Those who joined, and the user groups' members, are in the roster it starts with.
                command = command.model_copy(
                    update={"community": await self.live_community(uow, command.community.key)}
                )
            if current is None and command.community is not None:
                command = await with_found_before(uow, command)
        decision = decide(current, command, now)
        if decision.changed:
            esc = decision.escalation
            if current is None:
                await uow.escalations.add(esc)
            else:
                await uow.escalations.save(esc, current.version)
            await uow.outbox.append(esc.id, esc.version, decision.effects, now)
            await uow.audit.add(
                esc,
                at=now,
                actor=command.actor,
                action=decision.action or "",
                command_id=command.id,
                detail={**decision.detail, "via": command.via} if command.via else decision.detail,
            )
            if decision.action in _ROTATING_ACTIONS and esc.owner is not None:
                await uow.rotation.assigned(esc.community.key, esc.owner.expert, now)
            # Answers become knowledge when resolved, and leave it while reopened.
            if esc.status == Status.resolved and esc.answer:
                await uow.knowledge.capture(esc)
            elif current is not None and current.status == Status.resolved and esc.status != Status.resolved:
                await uow.knowledge.forget(esc.id)
        return Outcome(decision.escalation, decision)

    def _with_role(self, command: BaseCommand) -> BaseCommand:
        """The actor's deployment-wide role comes from the configuration, never the request."""
        admin = is_admin(self.directory, command.actor)
        return command if command.admin == admin else command.model_copy(update={"admin": admin})

    @staticmethod
    def _log_change(outcome: Outcome, command: BaseCommand, event: tuple[str, str] | None) -> None:
        decision = outcome.decision
        if decision is None or not decision.changed:
            return
        log.info(
            decision.action or "changed",
            extra={
                "escalation_id": decision.escalation.id,
                "event_id": event[1] if event else None,
                "actor": command.actor.key,
                "version": decision.escalation.version,
                **_loggable(decision.detail),
            },
        )

    async def live_community(self, uow: Any, key: str) -> Community | None:
        """The community as configured now, with its user groups' members as last read, and
        who joined or left its rotation if it is open."""
        return await live_community(self.directory, uow, key)

    async def move_on_from_departed(self) -> int:
        """After the roster changed: each assigned question whose owner has left it moves on
        to the next expert. Returns how many moved. Safe to run on several replicas at once."""
        moved = 0
        for configured in self.directory.all():
            async with self.store.unit_of_work() as uow:
                community = await self.live_community(uow, configured.key) or configured
                keys = [e.key for e in community.experts] + ([community.lead.key] if community.lead else [])
                held = await uow.escalations.open_held_by_others(community.key, keys)
            for escalation_id in held:
                command = MoveOn(id=f"move_on:{uuid.uuid4().hex}", escalation_id=escalation_id, actor=SYSTEM)
                try:
                    outcome = await self.handle(command)
                except Refused as refusal:
                    log.warning("could not move on", extra={"escalation_id": escalation_id, "reason": refusal.message})
                    continue
                moved += outcome.changed
        return moved

    # ------------------------------------------------------------ timers

    async def sweep(
        self, *, holder: str, limit: int = 500, lease: timedelta = timedelta(seconds=60), batch: int = SWEEP_BATCH
    ) -> int:
        """Run every due timer step once. Returns how many steps were executed.

        Steps run ``batch`` to a transaction: one commit for many steps is what lets a
        process keep up when thousands fall due together. Should a batch fail (a stale
        write, an escalation that cannot be read), its steps run again one transaction
        each, so one odd escalation cannot hold back the others."""
        executed = 0
        while True:
            now = self.clock.now()
            async with self.store.unit_of_work() as uow:
                due = await uow.escalations.claim_due(now, limit, holder, lease)
            if not due:
                return executed
            ticks = [
                Tick(
                    id=f"tick:{step}:{due_at.isoformat()}",
                    escalation_id=escalation_id,
                    actor=SYSTEM,
                    step=Step(step),
                    due_at=due_at,
                )
                for escalation_id, step, due_at in due
            ]
            for start in range(0, len(ticks), max(batch, 1)):
                executed += await self._run_ticks(ticks[start : start + max(batch, 1)])
            # Loop: a step just taken may make the next one due at once (a long outage).

    async def _run_ticks(self, ticks: list[Tick]) -> int:
        outcomes: list[Outcome] = []
        try:
            async with self.store.unit_of_work() as uow:
                for tick in ticks:
                    outcomes.append(await self._apply(uow, Found(tick), None, None, self.clock.now()))
        except Exception:
            log.info("timer batch rolled back; running its steps one by one", extra={"steps": len(ticks)})
            return await self._ticks_alone(ticks)
        for tick, outcome in zip(ticks, outcomes, strict=True):
            if outcome.changed:
                assert outcome.escalation is not None and outcome.decision is not None
                self._log_change(outcome, tick, None)
                for listener in self._listeners:
                    listener(outcome.escalation, outcome.decision)
        return sum(self._ran(tick, outcome) for tick, outcome in zip(ticks, outcomes, strict=True))

    async def _ticks_alone(self, ticks: list[Tick]) -> int:
        """One transaction per step. A step that fails is logged and left leased, so it is
        tried again when its lease runs out, and the others still run; only when every
        step of several fails (the database is gone, say) does the sweep stop."""
        executed = 0
        failure: Exception | None = None
        failures = 0
        for tick in ticks:
            try:
                executed += await self._tick_alone(tick)
            except Exception as exc:
                failure, failures = exc, failures + 1
                log.exception(
                    "timer step failed; it runs again when its lease expires",
                    extra={"escalation_id": tick.escalation_id, "step": tick.step.value},
                )
        if failure is not None and failures == len(ticks) > 1:
            raise failure
        return executed

    async def _tick_alone(self, tick: Tick) -> int:
        try:
            outcome = await self.handle(tick)
        except Refused as refusal:  # a timer is never refused by the rules; log if it happens
            log.warning("timer refused", extra={"escalation_id": tick.escalation_id, "reason": refusal.message})
            return 0
        return self._ran(tick, outcome)

    def _ran(self, tick: Tick, outcome: Outcome) -> int:
        if not outcome.changed:
            return 0
        late = (self.clock.now() - tick.due_at).total_seconds()
        if late > 60:
            log.warning(
                "timer ran late",
                extra={"escalation_id": tick.escalation_id, "step": tick.step.value, "late_s": round(late, 1)},
            )
        return 1

    async def next_due(self) -> Any:
        async with self.store.unit_of_work() as uow:
            return await uow.escalations.next_due()


def _loggable(detail: dict[str, Any]) -> dict[str, Any]:
    # LogRecord reserves some attribute names; prefix everything from the detail.
    return {f"d_{k}": v for k, v in detail.items()}
