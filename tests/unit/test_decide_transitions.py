"""Every transition of ``decide``, table-driven: given a state, a command and a time,
what the escalation becomes and exactly what is said to whom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    ESC_ID,
    LENA,
    RITA,
    SAM,
    T0,
    TEAMS_CHANNEL,
    accept,
    assign,
    cancel,
    claim,
    community,
    decline,
    fire,
    get,
    notices_to,
    open_cmd,
    opened,
    person,
    reassign,
    reopen,
    reply,
    resolve,
    run,
    summary,
    tick,
)
from workflows.commands import BaseCommand, Roster
from workflows.decide import decide
from workflows.effects import Notice, Notify, PostCard, ThreadReply, UpdateCard
from workflows.model import SYSTEM, Ball, Escalation, MessageRef, Ownership, Platform, Status, Step
from workflows.timers import schedule

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
NOW = T0 + 40 * M


# ---------------------------------------------------------------- states, reached through decide


def fresh(**policy: Any) -> Escalation:
    return opened(community(**policy))


def answered() -> Escalation:
    """Alice replied at T0+10m: the ball is with the requester."""
    return run(fresh(), (reply(ALICE), T0 + 10 * M))


def nudged() -> Escalation:
    decision = fire(fresh())
    assert decision.action == "nudged"
    return decision.escalation


def assigned_alice() -> Escalation:
    return run(fresh(), (assign(LENA, ALICE), T0 + 5 * M))


def claimed_alice() -> Escalation:
    return run(fresh(), (claim(ALICE), T0 + 5 * M))


def accepted_alice() -> Escalation:
    return run(assigned_alice(), (accept(ALICE), T0 + 10 * M))


def answered_by_owner() -> Escalation:
    return run(claimed_alice(), (reply(ALICE), T0 + 10 * M))


def resolved() -> Escalation:
    return run(claimed_alice(), (resolve(ALICE, "Raise wal_keep_size."), T0 + 20 * M))


def cancelled() -> Escalation:
    return run(fresh(), (cancel(RITA), T0 + 5 * M))


def auto_closed() -> Escalation:
    esc = answered()
    esc = fire(esc).escalation  # requester reminder
    decision = fire(esc)
    assert decision.action == "auto_closed"
    return decision.escalation


def auto_assigned() -> Escalation:
    decision = fire(nudged())  # T0+1h: assign, round robin from the top
    assert decision.action == "auto_assigned"
    return decision.escalation


def owner_reminded() -> Escalation:
    decision = fire(auto_assigned())  # T0+3h
    assert decision.action == "owner_reminded"
    return decision.escalation


def requester_reminded() -> Escalation:
    decision = fire(answered())  # T0+10m+1d
    assert decision.action == "requester_reminded"
    return decision.escalation


def reassigned_to_carol() -> Escalation:
    return run(assigned_alice(), (reassign(LENA, to=CAROL), T0 + 10 * M))


def declined_down_to_lead() -> Escalation:
    esc = run(
        assigned_alice(),
        (decline(ALICE), T0 + 10 * M),
        (decline(BOB), T0 + 15 * M),
        (decline(CAROL), T0 + 20 * M),
    )
    assert esc.owner is not None and esc.owner.expert == "lena"
    return esc


def lone_expert_assigned() -> Escalation:
    esc = opened(community(experts=(ALICE,), lead=None))
    return run(esc, (assign(RITA, ALICE), T0 + 5 * M))


def teams_requester_answered() -> Escalation:
    """The requester is on Teams while the community posts only in Slack: she cannot see the thread."""
    requester = person("rita-t", Platform.teams, "tid")
    esc = opened(community(), actor=requester)
    return run(esc, (reply(ALICE), T0 + 10 * M))


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    given: Callable[[], Escalation | None]
    command: Callable[[], BaseCommand]
    at: datetime
    action: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    # Exactly what is said, in order; None: not asserted by this row.
    effects: list[tuple[str, ...]] | None = None


UC = ("update_card", "C1")


def to(notice: str, who: str) -> tuple[str, str, str]:
    return ("notify", notice, who)


CASES: dict[str, Case] = {
    # -------- open
    "open/posts-card": Case(
        lambda: None,
        lambda: open_cmd(),
        T0,
        "opened",
        {
            "status": Status.open,
            "ball": Ball.experts,
            "version": 1,
            "requester": RITA,
            "created_at": T0,
            "experts_since": T0,
            "owner": None,
            "next_step": Step.nudge,
            "next_due_at": T0 + 30 * M,
        },
        [("post_card", "C1"), ("notify", "posted", "rita")],
    ),
    "open/every-channel": Case(
        lambda: None,
        lambda: open_cmd(community(channels=(CHANNEL, TEAMS_CHANNEL))),
        T0,
        "opened",
        {"status": Status.open},
        [("post_card", "C1"), ("post_card", TEAMS_CHANNEL.id), ("notify", "posted", "rita")],
    ),
    "open/strips-text": Case(
        lambda: None,
        lambda: open_cmd(question="  Why?  ", customer="  ", link=" https://x.example/1 "),
        T0,
        "opened",
        {"question": "Why?", "customer": None, "link": "https://x.example/1"},
        [("post_card", "C1"), ("notify", "posted", "rita")],
    ),
    "open/no-timers-no-schedule": Case(
        lambda: None,
        lambda: open_cmd(community(timers=community().policy.timers.model_copy(update={"nudge_after": None}))),
        T0,
        "opened",
        {"next_step": Step.assign, "next_due_at": T0 + H},
        [("post_card", "C1"), ("notify", "posted", "rita")],
    ),
    # -------- reply
    "reply/expert-first-response-is-pull": Case(
        fresh,
        lambda: reply(ALICE),
        NOW,
        "replied",
        {
            "replies": 1,
            "last_reply_at": NOW,
            "first_response_at": NOW,
            "first_responder": ALICE,
            "first_response_pull": True,
            "ball": Ball.requester,
            "requester_since": NOW,
            "next_step": Step.requester_reminder,
            "next_due_at": NOW + D,
        },
        [UC, to("first_response", "rita")],
    ),
    "reply/third-person-first-response": Case(
        fresh,
        lambda: reply(SAM),
        NOW,
        "replied",
        {"first_responder": SAM, "first_response_pull": True, "ball": Ball.requester, "requester_since": NOW},
        [UC, to("first_response", "rita")],
    ),
    "reply/requester-keeps-ball-with-experts": Case(
        fresh,
        lambda: reply(RITA),
        NOW,
        "replied",
        {
            "replies": 1,
            "last_reply_at": NOW,
            "ball": Ball.experts,
            "first_response_at": None,
            "first_responder": None,
            "next_step": Step.nudge,
            "next_due_at": T0 + 30 * M,
        },
        [],
    ),
    "reply/after-nudge-is-push": Case(
        nudged,
        lambda: reply(BOB),
        T0 + H,
        "replied",
        {"first_responder": BOB, "first_response_pull": False, "ball": Ball.requester},
        [UC, to("first_response", "rita")],
    ),
    "reply/after-assignment-is-push": Case(
        assigned_alice,
        lambda: reply(ALICE),
        NOW,
        "replied",
        {
            "first_responder": ALICE,
            "first_response_pull": False,
            "ball": Ball.requester,
            "owner.since": NOW,
            "next_step": Step.requester_reminder,
        },
        [UC, to("first_response", "rita")],
    ),
    "reply/after-claim-is-still-pull": Case(
        claimed_alice,
        lambda: reply(ALICE),
        NOW,
        "replied",
        {"first_responder": ALICE, "first_response_pull": True, "ball": Ball.requester},
        [UC, to("first_response", "rita")],
    ),
    "reply/expert-again-while-with-requester": Case(
        answered,
        lambda: reply(BOB),
        NOW,
        "replied",
        {
            "replies": 2,
            "first_responder": ALICE,
            "first_response_at": T0 + 10 * M,
            "ball": Ball.requester,
            "requester_since": NOW,
            "next_due_at": NOW + D,
        },
        [],
    ),
    "reply/requester-hands-ball-back": Case(
        answered,
        lambda: reply(RITA),
        NOW,
        "replied",
        {
            "ball": Ball.experts,
            "experts_since": NOW,
            "requester_since": None,
            "nudges": 0,
            "next_step": Step.nudge,
            "next_due_at": NOW + 30 * M,
        },
        [UC],
    ),
    "reply/requester-hands-ball-back-to-owner": Case(
        answered_by_owner,
        lambda: reply(RITA),
        NOW,
        "replied",
        {
            "ball": Ball.experts,
            "owner.expert": "alice",
            "owner.since": NOW,
            "owner_reminded": False,
            "next_step": Step.owner_reminder,
            "next_due_at": NOW + 2 * H,
        },
        [UC],
    ),
    "reply/requester-on-other-platform-hears-later-replies": Case(
        teams_requester_answered,
        lambda: reply(BOB, "Try VACUUM."),
        NOW,
        "replied",
        {"replies": 2},
        [to("reply", "rita-t")],
    ),
    "reply/in-closed-thread-is-just-talk": Case(resolved, lambda: reply(ALICE), NOW, None, {}, []),
    # -------- claim
    "claim/expert": Case(
        fresh,
        lambda: claim(ALICE),
        NOW,
        "claimed",
        {
            "owner.expert": "alice",
            "owner.person": ALICE,
            "owner.kind": Ownership.claimed,
            "owner.since": NOW,
            "owner.by": ALICE,
            "first_push_at": None,
            "next_step": Step.owner_reminder,
            "next_due_at": NOW + 2 * H,
        },
        [UC, to("claimed", "rita")],
    ),
    "claim/lead": Case(
        fresh, lambda: claim(LENA), NOW, "claimed", {"owner.expert": "lena"}, [UC, to("claimed", "rita")]
    ),
    "claim/anyone-when-policy-allows": Case(
        lambda: fresh(anyone_can_claim=True),
        lambda: claim(SAM),
        NOW,
        "claimed",
        {"owner.expert": "slack:sam", "owner.person": SAM, "owner.kind": Ownership.claimed},
        [UC, to("claimed", "rita")],
    ),
    "claim/takes-over-unaccepted-assignment": Case(
        assigned_alice,
        lambda: claim(BOB),
        NOW,
        "claimed",
        {"owner.expert": "bob", "owner.kind": Ownership.claimed, "excluded": ()},
        [UC, to("unassigned", "alice"), to("claimed", "rita")],
    ),
    "claim/own-assignment-is-accept": Case(
        assigned_alice,
        lambda: claim(ALICE),
        NOW,
        "accepted",
        {"owner.expert": "alice", "owner.kind": Ownership.accepted, "owner.since": NOW, "owner.by": LENA},
        [UC, to("accepted", "rita")],
    ),
    "claim/own-claim-is-no-op": Case(claimed_alice, lambda: claim(ALICE), NOW, None, {}, []),
    "claim/while-ball-with-requester": Case(
        answered,
        lambda: claim(BOB),
        NOW,
        "claimed",
        {"owner.expert": "bob", "ball": Ball.requester, "next_step": Step.requester_reminder},
        [UC, to("claimed", "rita")],
    ),
    "claim/after-declining-lifts-exclusion": Case(
        lambda: run(assigned_alice(), (decline(ALICE), T0 + 10 * M)),
        lambda: claim(ALICE),
        NOW,
        "claimed",
        {"owner.expert": "alice", "excluded": ()},
        [UC, to("unassigned", "bob"), to("claimed", "rita")],
    ),
    # -------- assign
    "assign/by-lead": Case(
        fresh,
        lambda: assign(LENA, BOB),
        NOW,
        "assigned",
        {
            "owner.expert": "bob",
            "owner.kind": Ownership.assigned,
            "owner.by": LENA,
            "owner.since": NOW,
            "assignments": 1,
            "reassignments": 0,
            "first_push_at": NOW,
            "next_step": Step.owner_reminder,
            "next_due_at": NOW + 2 * H,
        },
        [UC, to("assigned", "bob"), to("assigned", "rita")],
    ),
    "assign/by-requester": Case(
        fresh, lambda: assign(RITA, CAROL), NOW, "assigned", {"owner.expert": "carol", "owner.by": RITA}
    ),
    "assign/moves-someone-elses-claim": Case(
        claimed_alice,
        lambda: assign(LENA, CAROL),
        NOW,
        "assigned",
        {"owner.expert": "carol", "excluded": ("alice",), "assignments": 1, "reassignments": 1},
        [UC, to("unassigned", "alice"), to("assigned", "carol"), to("reassigned", "rita")],
    ),
    "assign/owner-hands-on": Case(
        claimed_alice,
        lambda: assign(ALICE, BOB),
        NOW,
        "assigned",
        {"owner.expert": "bob", "owner.by": ALICE, "excluded": ("alice",)},
        [UC, to("assigned", "bob"), to("reassigned", "rita")],
    ),
    "assign/to-current-owner-is-no-op": Case(assigned_alice, lambda: assign(LENA, ALICE), NOW, None, {}, []),
    "assign/to-someone-outside-the-roster": Case(
        fresh,
        lambda: assign(LENA, SAM),
        NOW,
        "assigned",
        {"owner.expert": "slack:sam", "owner.person": SAM},
        [UC, to("assigned", "sam"), to("assigned", "rita")],
    ),
    # -------- reassign
    "reassign/explicit-target": Case(
        assigned_alice,
        lambda: reassign(LENA, to=CAROL),
        NOW,
        "reassigned",
        {
            "owner.expert": "carol",
            "owner.kind": Ownership.assigned,
            "owner.by": LENA,
            "owner.since": NOW,
            "excluded": ("alice",),
            "assignments": 2,
            "reassignments": 1,
            "next_due_at": NOW + 2 * H,
        },
        [UC, to("unassigned", "alice"), to("assigned", "carol"), to("reassigned", "rita")],
    ),
    "reassign/rotation-by-owner": Case(
        assigned_alice,
        lambda: reassign(ALICE, roster=Roster(last_assigned="alice")),
        NOW,
        "reassigned",
        {"owner.expert": "bob", "owner.by": ALICE, "excluded": ("alice",)},
        [UC, to("assigned", "bob"), to("reassigned", "rita")],
    ),
    "reassign/rotation-skips-previous-owners": Case(
        reassigned_to_carol,
        lambda: reassign(CAROL, roster=Roster(last_assigned="carol")),
        NOW,
        "reassigned",
        {"owner.expert": "bob", "excluded": ("alice", "carol"), "reassignments": 2},
        [UC, to("assigned", "bob"), to("reassigned", "rita")],
    ),
    "reassign/rotation-when-unowned": Case(
        fresh,
        lambda: reassign(RITA),
        NOW,
        "reassigned",
        {"owner.expert": "alice", "excluded": (), "reassignments": 1, "first_push_at": NOW},
        # The requester did it herself: she is not told what she just did.
        [UC, to("assigned", "alice")],
    ),
    "reassign/to-current-owner-is-no-op": Case(assigned_alice, lambda: reassign(LENA, to=ALICE), NOW, None, {}, []),
    # -------- accept
    "accept/by-owner": Case(
        assigned_alice,
        lambda: accept(ALICE),
        NOW,
        "accepted",
        {
            "owner.kind": Ownership.accepted,
            "owner.since": NOW,
            "owner.by": LENA,
            "next_step": Step.owner_reminder,
            "next_due_at": NOW + 2 * H,
        },
        [UC, to("accepted", "rita")],
    ),
    "accept/already-accepted-is-no-op": Case(accepted_alice, lambda: accept(ALICE), NOW, None, {}, []),
    "accept/claimed-is-no-op": Case(claimed_alice, lambda: accept(ALICE), NOW, None, {}, []),
    # -------- decline
    "decline/moves-to-next-expert": Case(
        assigned_alice,
        lambda: decline(ALICE, "on leave", Roster(last_assigned="alice")),
        NOW,
        "declined",
        {
            "owner.expert": "bob",
            "owner.by": SYSTEM,
            "owner.kind": Ownership.assigned,
            "excluded": ("alice",),
            "assignments": 2,
            "reassignments": 1,
            "next_step": Step.owner_reminder,
            "next_due_at": NOW + 2 * H,
        },
        [UC, to("assigned", "bob"), to("assigned", "rita")],
    ),
    "decline/a-claim": Case(
        claimed_alice,
        lambda: decline(ALICE),
        NOW,
        "declined",
        {"owner.expert": "bob", "excluded": ("alice",)},
        [UC, to("assigned", "bob"), to("assigned", "rita")],
    ),
    "decline/roster-exhausted-goes-to-lead": Case(
        lambda: run(assigned_alice(), (decline(ALICE), T0 + 10 * M), (decline(BOB), T0 + 15 * M)),
        lambda: decline(CAROL),
        NOW,
        "declined",
        {"owner.expert": "lena", "owner.person": LENA, "excluded": ("alice", "bob", "carol")},
        [UC, to("assigned", "lena"), to("assigned", "rita")],
    ),
    "decline/nobody-left-says-unowned": Case(
        declined_down_to_lead,
        lambda: decline(LENA, "not my area"),
        NOW,
        "declined",
        {
            "owner": None,
            "excluded": ("alice", "bob", "carol", "lena"),
            "experts_since": NOW,
            "next_step": None,
            "next_due_at": None,
        },
        [UC, ("thread_reply", "unowned", "C1")],
    ),
    "decline/nobody-left-without-lead": Case(
        lone_expert_assigned,
        lambda: decline(ALICE),
        NOW,
        "declined",
        {"owner": None, "excluded": ("alice",), "next_step": None},
        [UC, ("thread_reply", "unowned", "C1")],
    ),
    # -------- resolve
    "resolve/by-expert-with-answer": Case(
        claimed_alice,
        lambda: resolve(ALICE, "  Raise wal_keep_size.  "),
        NOW,
        "resolved",
        {
            "status": Status.resolved,
            "answer": "Raise wal_keep_size.",
            "resolved_by": ALICE,
            "resolved_at": NOW,
            "closed_reason": "resolved",
            "next_step": None,
            "next_due_at": None,
        },
        [UC, to("resolved", "rita")],
    ),
    "resolve/by-requester-tells-nobody": Case(
        fresh,
        lambda: resolve(RITA, "Found it in the runbook."),
        NOW,
        "resolved",
        {"status": Status.resolved, "resolved_by": RITA, "answer": "Found it in the runbook."},
        [UC],
    ),
    "resolve/blank-answer-is-none": Case(
        answered,
        lambda: resolve(BOB, "   "),
        NOW,
        "resolved",
        {"answer": None, "next_step": None},
        [UC, to("resolved", "rita")],
    ),
    "resolve/keeps-answer-message": Case(
        answered,
        lambda: resolve(ALICE, answer_ref=MessageRef(platform=Platform.slack, channel="C1", id="171.1")),
        NOW,
        "resolved",
        {"answer_ref.id": "171.1"},
        [UC, to("resolved", "rita")],
    ),
    # -------- reopen
    "reopen/by-requester": Case(
        resolved,
        lambda: reopen(RITA, "still broken"),
        NOW,
        "reopened",
        {
            "status": Status.open,
            "ball": Ball.experts,
            "experts_since": NOW,
            "resolved_at": None,
            "resolved_by": None,
            "closed_reason": None,
            "owner.expert": "alice",
            "owner.since": NOW,
            "next_step": Step.owner_reminder,
            "next_due_at": NOW + 2 * H,
        },
        [UC, to("reopened", "alice")],
    ),
    "reopen/by-another-expert": Case(
        resolved, lambda: reopen(BOB), NOW, "reopened", {}, [UC, to("reopened", "alice"), to("reopened", "rita")]
    ),
    "reopen/cancelled-and-unowned": Case(
        cancelled,
        lambda: reopen(RITA),
        NOW,
        "reopened",
        {"status": Status.open, "nudges": 0, "next_step": Step.nudge, "next_due_at": NOW + 30 * M},
        [UC],
    ),
    "reopen/auto-closed-gives-ball-to-experts": Case(
        auto_closed,
        lambda: reopen(RITA),
        T0 + 4 * D,
        "reopened",
        {"ball": Ball.experts, "requester_since": None, "requester_reminded": False, "next_step": Step.nudge},
        [UC],
    ),
    # -------- cancel
    "cancel/by-requester": Case(
        fresh,
        lambda: cancel(RITA),
        NOW,
        "cancelled",
        {"status": Status.cancelled, "closed_reason": "cancelled", "next_step": None, "next_due_at": None},
        [UC],
    ),
    "cancel/by-expert-tells-owner-and-requester": Case(
        claimed_alice,
        lambda: cancel(BOB, "duplicate of an older question"),
        NOW,
        "cancelled",
        {"status": Status.cancelled, "closed_reason": "duplicate of an older question"},
        [UC, to("cancelled", "alice"), to("cancelled", "rita")],
    ),
    "cancel/by-owner": Case(claimed_alice, lambda: cancel(ALICE), NOW, "cancelled", {}, [UC, to("cancelled", "rita")]),
    # -------- timers, one row per step
    "tick/nudge": Case(
        fresh,
        lambda: tick(Step.nudge, T0 + 30 * M),
        T0 + 30 * M,
        "nudged",
        {"nudges": 1, "first_push_at": T0 + 30 * M, "next_step": Step.assign, "next_due_at": T0 + H},
        [UC, ("thread_reply", "nudge", "C1")],
    ),
    "tick/assign": Case(
        nudged,
        lambda: tick(Step.assign, T0 + H),
        T0 + H,
        "auto_assigned",
        {
            "owner.expert": "alice",
            "owner.by": SYSTEM,
            "owner.kind": Ownership.assigned,
            "assignments": 1,
            "reassignments": 0,
            "next_step": Step.owner_reminder,
            "next_due_at": T0 + 3 * H,
        },
        [UC, to("assigned", "alice"), to("assigned", "rita")],
    ),
    "tick/assign-follows-rotation": Case(
        nudged,
        lambda: tick(Step.assign, T0 + H, Roster(last_assigned="alice")),
        T0 + H,
        "auto_assigned",
        {"owner.expert": "bob"},
        [UC, to("assigned", "bob"), to("assigned", "rita")],
    ),
    "tick/owner_reminder": Case(
        auto_assigned,
        lambda: tick(Step.owner_reminder, T0 + 3 * H),
        T0 + 3 * H,
        "owner_reminded",
        {"owner_reminded": True, "owner.expert": "alice", "next_step": Step.reassign, "next_due_at": T0 + 5 * H},
        [to("owner_reminder", "alice")],
    ),
    "tick/reassign": Case(
        owner_reminded,
        lambda: tick(Step.reassign, T0 + 5 * H, Roster(last_assigned="alice")),
        T0 + 5 * H,
        "auto_reassigned",
        {
            "owner.expert": "bob",
            "owner.by": SYSTEM,
            "owner.since": T0 + 5 * H,
            "excluded": ("alice",),
            "reassignments": 1,
            "owner_reminded": False,
            "next_step": Step.owner_reminder,
            "next_due_at": T0 + 7 * H,
        },
        [UC, to("unassigned", "alice"), to("assigned", "bob"), to("reassigned", "rita")],
    ),
    "tick/requester_reminder": Case(
        answered,
        lambda: tick(Step.requester_reminder, T0 + 10 * M + D),
        T0 + 10 * M + D,
        "requester_reminded",
        {"requester_reminded": True, "next_step": Step.auto_close, "next_due_at": T0 + 10 * M + 3 * D},
        [to("requester_reminder", "rita")],
    ),
    "tick/auto_close": Case(
        requester_reminded,
        lambda: tick(Step.auto_close, T0 + 10 * M + 3 * D),
        T0 + 10 * M + 3 * D,
        "auto_closed",
        {
            "status": Status.resolved,
            "resolved_by": SYSTEM,
            "resolved_at": T0 + 10 * M + 3 * D,
            "closed_reason": "auto_closed",
            "next_step": None,
            "next_due_at": None,
        },
        [UC, to("auto_closed", "rita")],
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_transition(case: Case) -> None:
    before = case.given()
    command = case.command()
    decision = decide(before, command, case.at)
    after = decision.escalation

    assert decision.action == case.action
    for path, expected in case.fields.items():
        assert get(after, path) == expected, path
    if case.effects is not None:
        assert summary(decision.effects) == case.effects

    if case.action is None:
        assert after == before
        assert decision.effects == []
        return
    assert after.version == (before.version + 1 if before else 1)
    assert after.updated_at == case.at
    assert command.id in after.applied
    # The stored timer is always what the rules say it should be now.
    nxt = schedule(after)
    assert (after.next_step, after.next_due_at) == (nxt if nxt else (None, None))
    # Every card and private message shows the escalation as it is after the change.
    for effect in decision.effects:
        if isinstance(effect, (PostCard, UpdateCard, Notify)):
            assert effect.view.version == after.version
            assert effect.view.status == after.status
        assert effect.escalation_id == ESC_ID


# ---------------------------------------------------------------- details the table does not show


def test_first_response_tells_requester_what_was_said() -> None:
    decision = decide(fresh(), reply(ALICE, "Check max_wal_senders."), NOW)
    [note] = notices_to(decision.effects, RITA)
    assert note.notice == Notice.first_response
    assert "Alice" in note.text and "Check max_wal_senders." in note.text


def test_later_replies_are_not_forwarded_when_requester_sees_the_thread() -> None:
    decision = decide(answered(), reply(BOB, "Also check the network."), NOW)
    assert notices_to(decision.effects, RITA) == []
    assert decision.changed and decision.effects == []


def test_empty_reply_text_still_counts_as_first_response() -> None:
    decision = decide(fresh(), reply(ALICE, ""), NOW)
    assert decision.escalation.first_responder == ALICE
    [note] = notices_to(decision.effects, RITA)
    assert note.text == "Alice replied to your question."


def test_resolve_notice_carries_the_answer() -> None:
    decision = decide(claimed_alice(), resolve(ALICE, "Raise wal_keep_size to 4GB."), NOW)
    [note] = notices_to(decision.effects, RITA)
    assert note.text == "Alice resolved your question. Answer: Raise wal_keep_size to 4GB."
    assert [a.value for a in note.actions] == ["reopen"]


def test_resolve_without_answer_says_only_who() -> None:
    decision = decide(claimed_alice(), resolve(ALICE), NOW)
    [note] = notices_to(decision.effects, RITA)
    assert note.text == "Alice resolved your question."


def test_unowned_reply_mentions_experts_and_lead_but_not_requester() -> None:
    decision = decide(declined_down_to_lead(), decline(LENA), NOW)
    [thread] = [e for e in decision.effects if isinstance(e, ThreadReply)]
    assert thread.notice == Notice.unowned
    assert "nobody is left in the rotation" in thread.text
    assert "Lena declined" in thread.text
    assert {p.id for p in thread.mentions} == {"alice", "bob", "carol", "lena"}
    assert decision.detail["unowned"] is True
    assert decision.detail["declined_by"] == "lena"


def test_decline_records_reason_and_who() -> None:
    decision = decide(assigned_alice(), decline(ALICE, "on leave"), NOW)
    assert decision.detail["declined_by"] == "alice"
    assert decision.detail["reason"] == "on leave"


def test_assigned_notice_offers_accept_reassign_decline() -> None:
    decision = decide(fresh(), assign(LENA, BOB), NOW)
    [note] = notices_to(decision.effects, BOB)
    assert note.notice == Notice.assigned
    assert [a.value for a in note.actions] == ["accept", "reassign", "decline"]
    assert note.text.startswith("Lena assigned you a question from Rita in Databases.")


def test_bot_moving_a_question_says_so() -> None:
    decision = fire(owner_reminded(), Roster(last_assigned="alice"))
    [note] = notices_to(decision.effects, ALICE)
    assert note.notice == Notice.unassigned
    assert note.text.startswith("There was no update in time")
    assert decision.detail["previous"] == "alice"


def test_nudge_says_how_long_and_mentions_experts_except_requester() -> None:
    esc = opened(community(experts=(ALICE, BOB, RITA)))  # the requester is an expert herself
    decision = fire(esc)
    [thread] = [e for e in decision.effects if isinstance(e, ThreadReply)]
    assert thread.text == "This question has waited 30m without an answer. Can one of you take it?"
    assert {p.id for p in thread.mentions} == {"alice", "bob"}


def test_owner_reminder_lists_actions_by_kind_of_ownership() -> None:
    assigned = fire(auto_assigned())
    [note] = assigned.effects
    assert isinstance(note, Notify)
    assert [a.value for a in note.actions] == ["accept", "reassign", "decline", "resolve"]
    assert "2h" in note.text

    claimed = run(fresh(), (claim(ALICE), T0 + 5 * M))
    decision = fire(claimed)
    [note] = decision.effects
    assert isinstance(note, Notify)
    assert [a.value for a in note.actions] == ["resolve"]


def test_every_channel_gets_an_updated_card() -> None:
    esc = opened(community(channels=(CHANNEL, TEAMS_CHANNEL)))
    decision = decide(esc, claim(ALICE), NOW)
    assert summary(decision.effects)[:2] == [("update_card", "C1"), ("update_card", TEAMS_CHANNEL.id)]


def test_assignment_uses_the_experts_identity_on_the_channels_platform() -> None:
    alice_teams = person("alice-aad", Platform.teams, "tid")
    comm = community(channels=(TEAMS_CHANNEL,))
    alice = comm.experts[0].model_copy(update={"refs": (ALICE, alice_teams)})
    comm = comm.model_copy(update={"experts": (alice, *comm.experts[1:])})
    esc = opened(comm)
    decision = decide(esc, reassign(RITA), NOW)
    assert decision.escalation.owner is not None
    assert decision.escalation.owner.person == alice_teams
    assert decision.escalation.owner.expert == "alice"


def test_expert_known_on_two_platforms_is_one_expert() -> None:
    alice_teams = person("alice-aad", Platform.teams, "tid")
    comm = community()
    alice = comm.experts[0].model_copy(update={"refs": (ALICE, alice_teams)})
    comm = comm.model_copy(update={"experts": (alice, *comm.experts[1:])})
    # From Teams she is still the expert "alice": she may claim, under her one key.
    claimed = decide(opened(comm), claim(alice_teams), NOW).escalation
    assert claimed.owner is not None
    assert (claimed.owner.expert, claimed.owner.person) == ("alice", alice_teams)
    # Held by her Slack identity, rotation never offers it to her Teams identity.
    esc = run(opened(comm), (assign(LENA, ALICE), T0 + 5 * M))
    moved = decide(esc, reassign(LENA, roster=Roster(last_assigned="carol")), NOW).escalation
    assert moved.owner is not None and moved.owner.expert == "bob"


def test_open_replayed_is_a_no_op() -> None:
    command = open_cmd()
    esc = decide(None, command, T0).escalation
    again = decide(esc, command, T0 + H)
    assert again.escalation == esc
    assert not again.changed and again.effects == []


def test_applied_memory_is_bounded() -> None:
    esc = fresh()
    for i in range(80):
        esc = run(esc, (reply(RITA if i % 2 else ALICE), T0 + i * M))
    assert len(esc.applied) == 64
    assert esc.version == 81


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(fresh(), claim(ALICE), datetime(2026, 1, 5, 10, 0))
