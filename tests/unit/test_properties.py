"""Invariants of ``decide`` over random sequences of commands, with time moving forward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    LENA,
    RITA,
    SAM,
    T0,
    TIMERS,
    accept,
    assign,
    cancel,
    claim,
    community,
    decline,
    open_cmd,
    reassign,
    reopen,
    reply,
    resolve,
    tick,
)
from workflows.calendar import BusinessHours
from workflows.commands import BaseCommand, Reassign, Roster, Tick
from workflows.decide import decide
from workflows.effects import Notify, PostCard, UpdateCard
from workflows.errors import Refused
from workflows.model import Ball, Community, Escalation, PersonRef, Rotation, Status, Step, Timers
from workflows.timers import schedule

ACTORS = (RITA, ALICE, BOB, CAROL, LENA, SAM)
KEYS = ("alice", "bob", "carol", "lena")
# Weighted by repetition: timers and the owner's own actions are what move a question
# along, while a close ends the interesting part of a sequence.
KINDS = (
    *("reply",) * 3,
    *("claim",) * 2,
    *("assign",) * 2,
    "reassign_to",
    *("reassign_rotation",) * 2,
    "accept",
    *("accept_by_owner",) * 2,
    "decline",
    *("decline_by_owner",) * 4,
    "resolve",
    "reopen",
    "cancel",
    *("tick_due",) * 6,
    "tick_stale",
    "repeat_last",
    "open_again",
)
# Who acts: someone in particular, or whoever holds the question right now.
OWNER = "owner"
ADVANCES = tuple(
    timedelta(minutes=m) for m in (0, 1, 10, 29, 30, 45, 61, 2 * 60, 5 * 60, 24 * 60, 3 * 24 * 60, 4 * 24 * 60)
)
LONDON = BusinessHours(timezone="Europe/London", holidays="GB")
NEW_YORK = BusinessHours(timezone="America/New_York", start="08:30", end="17:30", holidays="US")  # type: ignore[arg-type]
SHORT = Timers(
    nudge_after=timedelta(minutes=10),
    assign_after=timedelta(minutes=20),
    owner_reminder_after=timedelta(minutes=30),
    reassign_after=timedelta(minutes=45),
    requester_reminder_after=timedelta(hours=1),
    auto_close_after=timedelta(hours=2),
)
COMMUNITIES: tuple[Community, ...] = (
    community(),
    community(rotation=Rotation.least_loaded),
    community(anyone_can_claim=True, timers=SHORT),
    community(business_hours=LONDON),
    community(business_hours=NEW_YORK, timers=SHORT, rotation=Rotation.least_loaded),
    community(lead=None, experts=(ALICE, BOB)),
    community(experts=(ALICE, BOB, CAROL, RITA)),  # the requester is an expert too
    community(timers=TIMERS.model_copy(update={"auto_close_after": None, "nudge_after": None})),
    community(timers=Timers()),
)
STARTS = (
    T0,
    datetime(2026, 3, 27, 16, 45, tzinfo=UTC),  # Friday before the spring DST change
    datetime(2026, 10, 30, 21, 0, tzinfo=UTC),  # Friday night before the US autumn change
    datetime(2026, 12, 24, 16, 0, tzinfo=UTC),  # Christmas Eve
)


@dataclass(frozen=True)
class Move:
    kind: str
    actor: PersonRef | str
    target: PersonRef
    advance: timedelta
    stale_step: Step
    stale_shift: timedelta
    last_assigned: str | None
    loads: dict[str, int]


moves = st.builds(
    Move,
    kind=st.sampled_from(KINDS),
    actor=st.sampled_from((*ACTORS, OWNER, OWNER, OWNER)),
    target=st.sampled_from(ACTORS),
    advance=st.sampled_from(ADVANCES),
    stale_step=st.sampled_from(list(Step)),
    stale_shift=st.sampled_from([timedelta(0), timedelta(minutes=-5), timedelta(minutes=5), timedelta(hours=-1)]),
    last_assigned=st.none() | st.sampled_from(KEYS),
    loads=st.dictionaries(st.sampled_from(KEYS), st.integers(0, 4), max_size=4),
)


def clock_started(esc: Escalation) -> datetime:
    """When the clock of the step that is due started."""
    step = esc.next_step
    if step in (Step.nudge, Step.assign):
        return esc.experts_since
    if step in (Step.owner_reminder, Step.reassign):
        assert esc.owner is not None
        return esc.owner.since
    assert step in (Step.requester_reminder, Step.auto_close)
    return esc.requester_since or esc.updated_at


def check_invariants(esc: Escalation, now: datetime) -> None:
    if esc.status != Status.open:
        assert esc.next_due_at is None and esc.next_step is None
    assert (esc.next_step is None) == (esc.next_due_at is None)
    nxt = schedule(esc)
    assert (esc.next_step, esc.next_due_at) == (nxt if nxt else (None, None))
    if esc.next_due_at is not None:
        assert esc.next_due_at.utcoffset() == timedelta(0)
        assert esc.next_due_at >= clock_started(esc)
    if esc.owner is not None:
        assert esc.owner.expert not in esc.excluded
        assert esc.owner.since <= now
    assert len(set(esc.excluded)) == len(esc.excluded)
    assert esc.experts_since <= now
    assert esc.updated_at <= now
    if esc.status == Status.open:
        assert esc.resolved_at is None and esc.resolved_by is None
        if esc.ball == Ball.requester:
            assert esc.requester_since is not None and esc.requester_since <= now
    if esc.status == Status.resolved:
        assert esc.resolved_at is not None and esc.resolved_by is not None
    if esc.first_response_at is not None and esc.first_push_at != esc.first_response_at:
        pushed_first = esc.first_push_at is not None and esc.first_push_at < esc.first_response_at
        assert esc.first_response_pull is (not pushed_first)


def build(move: Move, esc: Escalation, now: datetime, last: BaseCommand) -> tuple[BaseCommand, datetime]:
    roster = Roster(loads=move.loads, last_assigned=move.last_assigned)
    target = move.target
    holder = esc.owner.person if esc.owner else ALICE
    actor = move.actor if isinstance(move.actor, PersonRef) else holder
    match move.kind:
        case "reply":
            return reply(actor), now
        case "claim":
            return claim(actor), now
        case "assign":
            return assign(actor, target), now
        case "reassign_to":
            return reassign(actor, to=target), now
        case "reassign_rotation":
            return reassign(actor, roster=roster), now
        case "accept":
            return accept(actor), now
        case "accept_by_owner":
            return accept(holder), now
        case "decline":
            return decline(actor, roster=roster), now
        case "decline_by_owner":
            return decline(holder, roster=roster), now
        case "resolve":
            return resolve(actor, "the answer"), now
        case "reopen":
            return reopen(actor), now
        case "cancel":
            return cancel(actor), now
        case "tick_due" if esc.next_step is not None and esc.next_due_at is not None:
            return tick(esc.next_step, esc.next_due_at, roster), max(now, esc.next_due_at)
        case "tick_due" | "tick_stale":
            due = (esc.next_due_at or now) + move.stale_shift
            return tick(move.stale_step, due, roster), now
        case "repeat_last":
            return last, now
        case "open_again":
            return open_cmd(), now
    raise AssertionError(move.kind)


@settings(max_examples=200, deadline=None)
@given(
    comm=st.sampled_from(COMMUNITIES),
    start=st.sampled_from(STARTS),
    script=st.lists(moves, min_size=1, max_size=30),
)
def test_invariants_hold_after_every_command(comm: Community, start: datetime, script: list[Move]) -> None:
    now = start
    first = open_cmd(comm)
    esc = decide(None, first, now).escalation
    check_invariants(esc, now)
    last: BaseCommand = first
    for move in script:
        now += move.advance
        command, now = build(move, esc, now, last)
        try:
            decision = decide(esc, command, now)
        except Refused as refusal:
            assert refusal.message
            continue
        new = decision.escalation
        if decision.changed:
            assert new.version == esc.version + 1
            assert new.updated_at == now
            assert command.id in new.applied
            for effect in decision.effects:
                if isinstance(effect, (PostCard, UpdateCard, Notify)):
                    assert effect.view.version == new.version
        else:
            assert new == esc
            assert decision.effects == []
        # Rotation never hands the question to someone excluded, the requester, or back.
        rotated = decision.action in {"auto_assigned", "auto_reassigned", "declined"} or (
            decision.action == "reassigned" and isinstance(command, Reassign) and command.to is None
        )
        if rotated and new.owner is not None:
            assert new.owner.expert not in esc.excluded
            assert not new.owner.person.same(new.requester)
            if esc.owner is not None:
                assert new.owner.expert != esc.owner.expert
        if isinstance(command, Tick) and decision.changed:
            assert command.due_at <= now
        check_invariants(new, now)

        # The same command delivered again changes nothing, now or later.
        for later in (now, now + timedelta(days=7)) if decision.changed else (now,):
            again = decide(new, command, later)
            assert not again.changed
            assert again.escalation == new
            assert again.escalation.version == new.version
            assert again.effects == []
        esc, last = new, command


@settings(max_examples=200, deadline=None)
@given(comm=st.sampled_from(COMMUNITIES), start=st.sampled_from(STARTS))
def test_only_timers_eventually_settle(comm: Community, start: datetime) -> None:
    """Left alone, a question is pushed along and then stops: no timer fires forever."""
    esc = decide(None, open_cmd(comm), start).escalation
    roster = Roster()
    fired = 0
    while esc.next_due_at is not None and fired < 30:
        now = esc.next_due_at
        decision = decide(esc, tick(esc.next_step, esc.next_due_at, roster), now)  # type: ignore[arg-type]
        assert decision.changed, "a due timer must do something"
        new = decision.escalation
        if new.next_due_at is not None:
            # Each timer moves the schedule on: never the same step at the same time again.
            assert (new.next_step, new.next_due_at) != (esc.next_step, esc.next_due_at)
        if new.owner is not None:
            roster = Roster(last_assigned=new.owner.expert)
        esc = new
        fired += 1
        check_invariants(esc, now)
    assert fired < 30
