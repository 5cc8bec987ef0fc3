"""Builders shared by the core unit tests: people, a community, and escalations in known states.

Every state is reached through ``decide`` itself, so a test never starts from an
escalation the rules could not have produced.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from workflows.commands import (
    Accept,
    Assign,
    BaseCommand,
    Cancel,
    Claim,
    Decline,
    Open,
    Reassign,
    Reopen,
    Reply,
    Resolve,
    Roster,
    Tick,
)
from workflows.decide import Decision, decide
from workflows.effects import Effect, Notify, PostCard, ThreadReply, UpdateCard
from workflows.model import (
    SYSTEM,
    ChannelRef,
    Community,
    Escalation,
    Expert,
    MessageRef,
    PersonRef,
    Platform,
    Policy,
    Rotation,
    Step,
    Timers,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, 09:00 in London (GMT)
TENANT = "T1"
ESC_ID = "esc-0001-aaaa-bbbb"


def person(pid: str, platform: Platform = Platform.slack, tenant: str = TENANT) -> PersonRef:
    return PersonRef(platform=platform, id=pid, tenant=tenant, name=pid.capitalize())


ALICE = person("alice")
BOB = person("bob")
CAROL = person("carol")
LENA = person("lena")  # the community lead
RITA = person("rita")  # the requester, from support
SAM = person("sam")  # a third person: neither requester nor expert


def expert(ref: PersonRef, *more: PersonRef) -> Expert:
    return Expert(key=ref.id, refs=(ref, *more), name=ref.name)


CHANNEL = ChannelRef(platform=Platform.slack, id="C1", tenant=TENANT)
TEAMS_CHANNEL = ChannelRef(platform=Platform.teams, id="19:abc@thread.tacv2", tenant="tid", team="team-1")

TIMERS = Timers(
    nudge_after=timedelta(minutes=30),
    assign_after=timedelta(hours=1),
    owner_reminder_after=timedelta(hours=2),
    reassign_after=timedelta(hours=4),
    requester_reminder_after=timedelta(days=1),
    auto_close_after=timedelta(days=3),
)
POLICY = Policy(timers=TIMERS)


def community(
    *,
    experts: Iterable[PersonRef] = (ALICE, BOB, CAROL),
    lead: PersonRef | None = LENA,
    policy: Policy = POLICY,
    channels: tuple[ChannelRef, ...] = (CHANNEL,),
    rotation: Rotation | None = None,
    **policy_changes: Any,
) -> Community:
    if rotation is not None:
        policy_changes["rotation"] = rotation
    if policy_changes:
        policy = policy.model_copy(update=policy_changes)
    return Community(
        key="db",
        name="Databases",
        channels=channels,
        experts=tuple(expert(p) for p in experts),
        lead=expert(lead) if lead else None,
        policy=policy,
    )


_ids = itertools.count(1)


def cid() -> str:
    return f"cmd-{next(_ids)}"


def open_cmd(
    comm: Community | None = None,
    *,
    actor: PersonRef = RITA,
    question: str = "Why does the replica lag behind by an hour?",
    **extra: Any,
) -> Open:
    comm = comm if comm is not None else community()
    return Open(
        id=cid(),
        escalation_id=ESC_ID,
        actor=actor,
        tenant=TENANT,
        community_key=comm.key,
        question=question,
        community=comm,
        **extra,
    )


def opened(comm: Community | None = None, *, at: datetime = T0, actor: PersonRef = RITA) -> Escalation:
    return decide(None, open_cmd(comm, actor=actor), at).escalation


# Command builders with fresh ids: each call is a new request.
def reply(actor: PersonRef, text: str = "Have you checked the WAL settings?") -> Reply:
    msg = MessageRef(platform=actor.platform, channel="C1", id=f"m-{next(_ids)}", tenant=actor.tenant)
    return Reply(id=cid(), escalation_id=ESC_ID, actor=actor, text=text, message=msg)


def claim(actor: PersonRef) -> Claim:
    return Claim(id=cid(), escalation_id=ESC_ID, actor=actor)


def assign(actor: PersonRef, assignee: PersonRef) -> Assign:
    return Assign(id=cid(), escalation_id=ESC_ID, actor=actor, assignee=assignee)


def reassign(actor: PersonRef, to: PersonRef | None = None, roster: Roster | None = None) -> Reassign:
    return Reassign(id=cid(), escalation_id=ESC_ID, actor=actor, to=to, roster=roster)


def accept(actor: PersonRef) -> Accept:
    return Accept(id=cid(), escalation_id=ESC_ID, actor=actor)


def decline(actor: PersonRef, reason: str | None = None, roster: Roster | None = None) -> Decline:
    return Decline(id=cid(), escalation_id=ESC_ID, actor=actor, reason=reason, roster=roster)


def resolve(actor: PersonRef, answer: str | None = None, answer_ref: MessageRef | None = None) -> Resolve:
    return Resolve(id=cid(), escalation_id=ESC_ID, actor=actor, answer=answer, answer_ref=answer_ref)


def reopen(actor: PersonRef, reason: str | None = None) -> Reopen:
    return Reopen(id=cid(), escalation_id=ESC_ID, actor=actor, reason=reason)


def cancel(actor: PersonRef, reason: str | None = None) -> Cancel:
    return Cancel(id=cid(), escalation_id=ESC_ID, actor=actor, reason=reason)


def tick(step: Step, due_at: datetime, roster: Roster | None = None) -> Tick:
    return Tick(id=cid(), escalation_id=ESC_ID, actor=SYSTEM, step=step, due_at=due_at, roster=roster)


def tick_due(esc: Escalation, roster: Roster | None = None) -> tuple[Tick, datetime]:
    """The tick the sweeper would send for what is due now, and when it would send it."""
    assert esc.next_step is not None and esc.next_due_at is not None, "nothing is due"
    return tick(esc.next_step, esc.next_due_at, roster), esc.next_due_at


def run(esc: Escalation | None, *steps: tuple[BaseCommand, datetime]) -> Escalation:
    """Apply commands in order; each must change the escalation."""
    for command, at in steps:
        decision = decide(esc, command, at)
        assert decision.changed, f"{command!r} changed nothing"
        esc = decision.escalation
    assert esc is not None
    return esc


def fire(esc: Escalation, roster: Roster | None = None) -> Decision:
    """Run the timer that is due, at the moment it is due."""
    command, at = tick_due(esc, roster)
    return decide(esc, command, at)


def summary(effects: Iterable[Effect]) -> list[tuple[str, ...]]:
    """Effects as short tuples, so a test can state exactly what should be said to whom."""
    out: list[tuple[str, ...]] = []
    for effect in effects:
        if isinstance(effect, PostCard):
            out.append(("post_card", effect.channel.id))
        elif isinstance(effect, UpdateCard):
            out.append(("update_card", effect.channel.id))
        elif isinstance(effect, ThreadReply):
            out.append(("thread_reply", effect.notice.value, effect.channel.id))
        elif isinstance(effect, Notify):
            out.append(("notify", effect.notice.value, effect.person.id))
        else:  # pragma: no cover - a new effect type must be added here
            raise AssertionError(f"unknown effect {effect!r}")
    return out


def get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = None if obj is None else getattr(obj, part)
    return obj


def notices_to(effects: Iterable[Effect], who: PersonRef) -> list[Notify]:
    return [e for e in effects if isinstance(e, Notify) and e.person.same(who)]
