"""Every refusal: a typed reason, a sentence for the person who asked, and no change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    LENA,
    RITA,
    SAM,
    T0,
    accept,
    assign,
    cancel,
    claim,
    community,
    decline,
    open_cmd,
    opened,
    reassign,
    reopen,
    reply,
    resolve,
    run,
    tick,
)
from workflows.commands import BaseCommand, Roster
from workflows.decide import decide
from workflows.errors import Reason, Refused
from workflows.model import Escalation, PersonRef, Step

M = timedelta(minutes=1)
NOW = T0 + 40 * M


def fresh() -> Escalation:
    return opened()


def claimed_alice() -> Escalation:
    return run(fresh(), (claim(ALICE), T0 + 5 * M))


def assigned_alice() -> Escalation:
    return run(fresh(), (assign(LENA, ALICE), T0 + 5 * M))


def accepted_alice() -> Escalation:
    return run(assigned_alice(), (accept(ALICE), T0 + 10 * M))


def resolved() -> Escalation:
    return run(claimed_alice(), (resolve(ALICE, "done"), T0 + 20 * M))


def cancelled() -> Escalation:
    return run(claimed_alice(), (cancel(RITA), T0 + 20 * M))


def everyone_excluded() -> Escalation:
    """Alice, Bob, Carol and the lead all declined: nobody is left to rotate to."""
    return run(
        assigned_alice(),
        (decline(ALICE), T0 + 10 * M),
        (decline(BOB), T0 + 11 * M),
        (decline(CAROL), T0 + 12 * M),
        (decline(LENA), T0 + 13 * M),
    )


def solo_community() -> Escalation:
    """Only one expert and no lead, and she holds the question already."""
    return run(opened(community(experts=(ALICE,), lead=None)), (claim(ALICE), T0 + 5 * M))


Given = Callable[[], Escalation]
Make = Callable[[], BaseCommand]

REFUSALS: dict[str, tuple[Given, Make, Reason, str]] = {
    # -------- forbidden: a third person may not manage someone else's question
    "forbidden/assign-by-stranger": (fresh, lambda: assign(SAM, ALICE), Reason.forbidden, "can assign"),
    "forbidden/reassign-by-stranger": (assigned_alice, lambda: reassign(SAM, BOB), Reason.forbidden, "can reassign"),
    "forbidden/rotate-by-stranger": (assigned_alice, lambda: reassign(SAM), Reason.forbidden, "can reassign"),
    "forbidden/resolve-by-stranger": (fresh, lambda: resolve(SAM, "42"), Reason.forbidden, "can resolve"),
    "forbidden/cancel-by-stranger": (fresh, lambda: cancel(SAM), Reason.forbidden, "can cancel"),
    "forbidden/reopen-by-stranger": (resolved, lambda: reopen(SAM), Reason.forbidden, "can reopen"),
    "forbidden/claim-by-non-expert": (fresh, lambda: claim(SAM), Reason.forbidden, "Only Databases experts"),
    "forbidden/claim-by-requester": (fresh, lambda: claim(RITA), Reason.forbidden, "Only Databases experts"),
    "forbidden/accept-by-other-expert": (assigned_alice, lambda: accept(BOB), Reason.forbidden, "assigned to Alice"),
    "forbidden/accept-when-unowned": (fresh, lambda: accept(ALICE), Reason.forbidden, "not assigned to anyone"),
    "forbidden/decline-by-other-expert": (assigned_alice, lambda: decline(BOB), Reason.forbidden, "holding"),
    "forbidden/decline-by-requester": (assigned_alice, lambda: decline(RITA), Reason.forbidden, "holding"),
    "forbidden/decline-when-unowned": (fresh, lambda: decline(ALICE), Reason.forbidden, "holding"),
    # -------- closed: nothing but reopen and talk on a resolved or cancelled question
    "closed/claim-resolved": (resolved, lambda: claim(BOB), Reason.closed, "resolved; it can't be claimed"),
    "closed/assign-resolved": (resolved, lambda: assign(LENA, BOB), Reason.closed, "resolved; it can't be assigned"),
    "closed/reassign-resolved": (resolved, lambda: reassign(LENA), Reason.closed, "can't be reassigned"),
    "closed/accept-resolved": (resolved, lambda: accept(ALICE), Reason.closed, "can't be accepted"),
    "closed/decline-resolved": (resolved, lambda: decline(ALICE), Reason.closed, "can't be declined"),
    "closed/resolve-resolved": (resolved, lambda: resolve(ALICE, "again"), Reason.closed, "can't be resolved"),
    "closed/cancel-resolved": (resolved, lambda: cancel(RITA), Reason.closed, "can't be cancelled"),
    "closed/claim-cancelled": (cancelled, lambda: claim(BOB), Reason.closed, "cancelled; it can't be claimed"),
    "closed/assign-cancelled": (cancelled, lambda: assign(RITA, BOB), Reason.closed, "cancelled"),
    "closed/reassign-cancelled": (cancelled, lambda: reassign(RITA, BOB), Reason.closed, "cancelled"),
    "closed/accept-cancelled": (cancelled, lambda: accept(ALICE), Reason.closed, "cancelled"),
    "closed/decline-cancelled": (cancelled, lambda: decline(ALICE), Reason.closed, "cancelled"),
    "closed/resolve-cancelled": (cancelled, lambda: resolve(RITA), Reason.closed, "cancelled"),
    "closed/cancel-cancelled": (cancelled, lambda: cancel(RITA), Reason.closed, "cancelled"),
    # -------- conflict
    "conflict/claim-someone-elses-claim": (claimed_alice, lambda: claim(BOB), Reason.conflict, "Alice has already"),
    "conflict/claim-someone-elses-accepted": (accepted_alice, lambda: claim(BOB), Reason.conflict, "Alice has"),
    "conflict/lead-claims-someone-elses-claim": (claimed_alice, lambda: claim(LENA), Reason.conflict, "reassign it"),
    "conflict/reopen-open": (fresh, lambda: reopen(RITA), Reason.conflict, "already open"),
    "conflict/reopen-open-by-stranger": (fresh, lambda: reopen(SAM), Reason.conflict, "already open"),
    "conflict/open-existing": (fresh, lambda: open_cmd(), Reason.conflict, "already exists"),
    # -------- nobody_left
    "nobody_left/rotate-everyone-excluded": (
        everyone_excluded,
        lambda: reassign(RITA, roster=Roster(last_assigned="alice")),
        Reason.nobody_left,
        "nobody left",
    ),
    "nobody_left/rotate-only-expert-holds-it": (solo_community, lambda: reassign(ALICE), Reason.nobody_left, "nobody"),
}


@pytest.mark.parametrize(("given", "make", "reason", "words"), list(REFUSALS.values()), ids=list(REFUSALS))
def test_refused(given: Given, make: Make, reason: Reason, words: str) -> None:
    esc = given()
    snapshot = esc.model_copy(deep=True)
    command = make()
    with pytest.raises(Refused) as caught:
        decide(esc, command, NOW)
    refusal = caught.value
    assert refusal.reason == reason
    assert words in refusal.message
    # A sentence for a person: capitalised, punctuated, and what str() shows.
    assert refusal.message[0].isupper() and refusal.message.endswith(".")
    assert str(refusal) == refusal.message
    assert esc == snapshot
    assert command.id not in esc.applied
    # Refused again, the same way: a refusal records nothing.
    with pytest.raises(Refused) as again:
        decide(esc, command, NOW)
    assert again.value.reason == reason


COMMANDS_ON_NOTHING: dict[str, Make] = {
    "reply": lambda: reply(ALICE),
    "claim": lambda: claim(ALICE),
    "assign": lambda: assign(LENA, ALICE),
    "reassign": lambda: reassign(LENA),
    "accept": lambda: accept(ALICE),
    "decline": lambda: decline(ALICE),
    "resolve": lambda: resolve(ALICE),
    "reopen": lambda: reopen(RITA),
    "cancel": lambda: cancel(RITA),
    "tick": lambda: tick(Step.nudge, T0),
}


@pytest.mark.parametrize("make", list(COMMANDS_ON_NOTHING.values()), ids=list(COMMANDS_ON_NOTHING))
def test_not_found_when_there_is_no_escalation(make: Make) -> None:
    with pytest.raises(Refused) as caught:
        decide(None, make(), NOW)
    assert caught.value.reason == Reason.not_found
    assert "does not exist" in caught.value.message


def test_open_for_an_unknown_community() -> None:
    command = open_cmd().model_copy(update={"community": None})
    with pytest.raises(Refused) as caught:
        decide(None, command, T0)
    assert caught.value.reason == Reason.unknown_community
    assert "'db'" in caught.value.message


def test_open_with_a_community_of_another_key() -> None:
    command = open_cmd().model_copy(update={"community_key": "networking"})
    with pytest.raises(Refused) as caught:
        decide(None, command, T0)
    assert caught.value.reason == Reason.unknown_community
    assert "'networking'" in caught.value.message


def test_open_in_a_community_without_channels() -> None:
    with pytest.raises(Refused) as caught:
        decide(None, open_cmd(community(channels=())), T0)
    assert caught.value.reason == Reason.invalid
    assert "no channel" in caught.value.message


def test_open_with_a_blank_question() -> None:
    with pytest.raises(Refused) as caught:
        decide(None, open_cmd(question="   \n "), T0)
    assert caught.value.reason == Reason.invalid
    assert "empty" in caught.value.message


def test_refused_repr_names_reason_and_message() -> None:
    refusal = Refused(Reason.conflict, "Already claimed.")
    assert repr(refusal) == "Refused('conflict', 'Already claimed.')"
    assert isinstance(refusal, Exception)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(RITA, True), (ALICE, True), (LENA, True), (SAM, False)],
    ids=["requester", "expert", "lead", "stranger"],
)
def test_who_may_manage(actor: PersonRef, allowed: bool) -> None:
    """The requester, the owner, any expert and the lead may manage; nobody else."""
    esc = fresh()
    command = cancel(actor)
    if allowed:
        assert decide(esc, command, NOW).changed
    else:
        with pytest.raises(Refused):
            decide(esc, command, NOW)


def test_owner_outside_the_roster_may_manage() -> None:
    esc = run(fresh(), (assign(LENA, SAM), T0 + 5 * M))
    decision = decide(esc, resolve(SAM, "fixed"), NOW)
    assert decision.action == "resolved"
