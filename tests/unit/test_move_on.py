"""Live rosters in the core: an escalation carries the roster as the service passes it now; an
assigned owner who left it is moved on at once (MoveOn), with everyone told why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    ESC_ID,
    LENA,
    RITA,
    T0,
    accept,
    assign,
    cid,
    claim,
    community,
    fire,
    notices_to,
    opened,
    run,
    summary,
)
from workflows.commands import MoveOn, Roster
from workflows.decide import decide
from workflows.effects import ThreadReply
from workflows.model import SYSTEM, Community, Escalation, Ownership, PersonRef
from workflows.rotation import cannot_hold

M = timedelta(minutes=1)


def move_on(roster: Roster | None = None) -> MoveOn:
    return MoveOn(id=cid(), escalation_id=ESC_ID, actor=SYSTEM, roster=roster)


def with_roster(esc: Escalation, experts: tuple[PersonRef, ...], lead: PersonRef | None = LENA) -> Escalation:
    """What the service does before deciding: the community's roster as configured now."""
    live: Community = community(experts=experts, lead=lead)
    return esc.model_copy(
        update={"community": esc.community.model_copy(update={"experts": live.experts, "lead": live.lead})}
    )


def assigned_to_alice() -> Escalation:
    return run(opened(), (assign(LENA, ALICE), T0 + M))


def test_an_assigned_owner_who_left_the_roster_moves_on_and_everyone_hears_why() -> None:
    esc = with_roster(assigned_to_alice(), (BOB, CAROL))
    decision = decide(esc, move_on(Roster(last_assigned="alice")), T0 + 2 * M)
    new = decision.escalation
    assert decision.action == "moved_on"
    assert new.owner is not None and new.owner.person == BOB and new.owner.kind == Ownership.assigned
    because = "Alice is no longer in the Databases rotation"
    assert decision.detail["because"] == because and decision.detail["previous"] == "alice"
    assert "alice" not in new.excluded  # not their choice: should they come back, they may be chosen again
    [to_bob] = notices_to(decision.effects, BOB)
    assert f"It comes to you because {because}." in to_bob.text
    [to_rita] = notices_to(decision.effects, RITA)
    assert to_rita.text == f"Your question is now assigned to Bob, because {because}."
    [to_alice] = notices_to(decision.effects, ALICE)
    assert to_alice.text == f"The question you held moved to Bob: {because}."


@pytest.mark.parametrize(
    ("how", "roster"),
    [
        ("still in the roster", (ALICE, BOB)),
        ("accepted it", (BOB,)),
        ("claimed it", (BOB,)),
    ],
)
def test_move_on_changes_nothing_when_the_owner_may_keep_it(how: str, roster: tuple[PersonRef, ...]) -> None:
    esc = assigned_to_alice()
    if how == "accepted it":
        esc = run(esc, (accept(ALICE), T0 + 2 * M))
    if how == "claimed it":
        esc = run(opened(), (claim(ALICE), T0 + M))
    esc = with_roster(esc, roster)
    assert not decide(esc, move_on(), T0 + 3 * M).changed


def test_nobody_left_the_question_is_unowned_and_the_requester_told() -> None:
    esc = with_roster(assigned_to_alice(), (), lead=None)
    decision = decide(esc, move_on(), T0 + 2 * M)
    assert decision.escalation.owner is None
    assert decision.detail["unowned"] is True
    assert ("thread_reply", "unowned", "C1") in summary(decision.effects)
    [to_rita] = notices_to(decision.effects, RITA)
    assert "unassigned again: Alice is no longer in the Databases rotation" in to_rita.text
    # Nobody to assign to: no assignment is scheduled.
    assert decision.escalation.next_step is None


def test_the_lead_takes_it_when_no_expert_is_left() -> None:
    esc = with_roster(assigned_to_alice(), (), lead=LENA)
    new = decide(esc, move_on(), T0 + 2 * M).escalation
    assert new.owner is not None and new.owner.person == LENA


def test_a_removed_expert_is_not_nudged_or_assigned() -> None:
    esc = with_roster(opened(), (BOB, CAROL))
    nudge = fire(esc)
    [reply] = [e for e in nudge.effects if isinstance(e, ThreadReply)]
    assert ALICE not in reply.mentions and BOB in reply.mentions
    assigned = fire(nudge.escalation, Roster(last_assigned="carol"))
    assert assigned.escalation.owner is not None and assigned.escalation.owner.person == BOB


@pytest.mark.parametrize(
    ("key", "expected"),
    [("alice", None), ("lena", None), ("zed", "is no longer in the Databases rotation")],
)
def test_cannot_hold(key: str, expected: str | None) -> None:
    assert cannot_hold(opened(), key) == expected
