"""One expert known on two platforms holds a question under either identity."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.helpers import (
    ALICE,
    BOB,
    RITA,
    T0,
    Expert,
    Platform,
    accept,
    assign,
    community,
    decide,
    decline,
    opened,
    person,
    reopen,
    resolve,
    run,
)
from workflows.model import Community, Ownership

ALICE_TEAMS = person("29:alice", Platform.teams, tenant="tid")


def two_platform_community() -> Community:
    base = community()
    both = Expert(key="alice", refs=(ALICE, ALICE_TEAMS), name="Alice")
    return base.model_copy(update={"experts": (both, *base.experts[1:])})


def test_the_owner_accepts_from_their_other_platform() -> None:
    esc = run(opened(two_platform_community()), (assign(BOB, ALICE), T0))
    assert esc.owner is not None and esc.owner.expert == "alice"
    accepted = decide(esc, accept(ALICE_TEAMS), T0 + timedelta(minutes=1)).escalation
    assert accepted.owner is not None and accepted.owner.kind == Ownership.accepted


def test_the_owner_declines_from_their_other_platform() -> None:
    esc = run(opened(two_platform_community()), (assign(BOB, ALICE), T0))
    released = decide(esc, decline(ALICE_TEAMS), T0 + timedelta(minutes=1)).escalation
    assert "alice" in released.excluded
    assert released.owner is None or released.owner.expert != "alice"


def test_reopening_drops_the_answer_that_did_not_hold() -> None:
    esc = run(opened(), (resolve(RITA, answer="restart it"), T0))
    assert esc.answer == "restart it"
    again = decide(esc, reopen(RITA), T0 + timedelta(hours=1)).escalation
    assert again.answer is None and again.answer_ref is None


def test_a_resolve_reaction_counts_only_from_the_owner_or_the_requester() -> None:
    from tests.unit.helpers import CAROL, claim
    from workflows.commands import Resolve
    from workflows.errors import Reason, Refused

    esc = run(opened(), (claim(ALICE), T0))
    try:
        decide(esc, Resolve(id="r1", escalation_id=esc.id, actor=CAROL, via_reaction=True), T0)
        raise AssertionError("another expert resolved by reaction")
    except Refused as refusal:
        assert refusal.reason == Reason.forbidden
    by_button = decide(esc, Resolve(id="r2", escalation_id=esc.id, actor=CAROL), T0).escalation
    assert by_button.status.value == "resolved"
    for who in (ALICE, RITA):
        done = decide(esc, Resolve(id=f"r-{who.id}", escalation_id=esc.id, actor=who, via_reaction=True), T0)
        assert done.escalation.status.value == "resolved"


def test_a_person_as_a_choice_value_reads_back_and_nothing_else_does() -> None:
    from workflows.model import PersonRef, Platform

    ada = PersonRef(platform=Platform.teams, id="29:1abc", tenant="t-1", name="Ada | Lovelace")
    back = PersonRef.from_choice(ada.as_choice())
    assert back == ada and back is not None and back.name == "Ada | Lovelace"
    nameless = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0ACME")
    assert PersonRef.from_choice(nameless.as_choice()) == nameless
    for forged in ("", "slack", "slack|T0ACME|", "irc|net|nick|Nick", "nonsense"):
        assert PersonRef.from_choice(forged) is None
