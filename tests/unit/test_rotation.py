"""Who the question goes to next: round robin, least loaded, exclusions, the lead last."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    LENA,
    RITA,
    T0,
    assign,
    community,
    decline,
    opened,
    person,
    reassign,
    run,
)
from workflows.commands import Roster
from workflows.decide import decide
from workflows.model import Escalation, Owner, Ownership, Rotation
from workflows.rotation import candidates, choose_expert

M = timedelta(minutes=1)
DAVE = person("dave")


def esc_for(
    rotation: Rotation = Rotation.round_robin,
    *,
    experts: tuple = (ALICE, BOB, CAROL, DAVE),
    lead: object = LENA,
    excluded: tuple[str, ...] = (),
    owner: str | None = None,
    requester=RITA,
) -> Escalation:
    esc = opened(community(experts=experts, lead=lead, rotation=rotation), actor=requester)  # type: ignore[arg-type]
    update: dict[str, object] = {"excluded": excluded}
    if owner is not None:
        holder = esc.community.expert_for(person(owner))
        assert holder is not None
        update["owner"] = Owner(expert=owner, person=holder.refs[0], kind=Ownership.assigned, since=T0)
    return esc.model_copy(update=update)


def pick(esc: Escalation, roster: Roster) -> str | None:
    chosen = choose_expert(esc, roster)
    return chosen.key if chosen else None


# ---------------------------------------------------------------- round robin


@pytest.mark.parametrize(
    ("last", "excluded", "owner", "expected"),
    [
        (None, (), None, "alice"),
        ("alice", (), None, "bob"),
        ("bob", (), None, "carol"),
        ("carol", (), None, "dave"),
        ("dave", (), None, "alice"),  # wraps round
        ("nobody-we-know", (), None, "alice"),  # a departed expert: start from the top
        ("lena", (), None, "alice"),  # the lead is not part of the rotation
        ("alice", ("bob",), None, "carol"),  # skips the excluded
        ("carol", ("dave", "alice"), None, "bob"),  # skips and wraps
        ("alice", (), "bob", "carol"),  # never the current owner
        ("dave", ("alice", "carol"), "bob", "dave"),  # only dave is left among the experts
        ("bob", ("alice", "bob", "carol", "dave"), None, "lena"),  # experts spent: the lead
        ("bob", ("alice", "bob", "carol", "dave", "lena"), None, None),  # nobody at all
        (None, ("alice", "bob", "carol"), "dave", "lena"),  # the lead, even with an owner
    ],
)
def test_round_robin(last: str | None, excluded: tuple[str, ...], owner: str | None, expected: str | None) -> None:
    esc = esc_for(excluded=excluded, owner=owner)
    assert pick(esc, Roster(last_assigned=last)) == expected


def test_round_robin_never_picks_the_requester() -> None:
    esc = esc_for(requester=BOB)
    assert pick(esc, Roster(last_assigned="alice")) == "carol"
    assert "bob" not in [e.key for e in candidates(esc)]


def test_the_lead_is_never_picked_when_she_asked() -> None:
    esc = esc_for(requester=LENA, excluded=("alice", "bob", "carol", "dave"))
    assert pick(esc, Roster()) is None


def test_lead_who_is_also_an_expert_rotates_with_the_others() -> None:
    esc = esc_for(experts=(ALICE, LENA, BOB))
    assert [e.key for e in candidates(esc)] == ["alice", "lena", "bob"]
    assert pick(esc, Roster(last_assigned="alice")) == "lena"


def test_candidates_keep_roster_order_with_lead_last() -> None:
    esc = esc_for(excluded=("bob",), owner="carol")
    assert [e.key for e in candidates(esc)] == ["alice", "dave", "lena"]


def test_no_lead_and_no_experts_left() -> None:
    esc = esc_for(lead=None, excluded=("alice", "bob", "carol", "dave"))
    assert candidates(esc) == []
    assert pick(esc, Roster()) is None


# ---------------------------------------------------------------- least loaded


@pytest.mark.parametrize(
    ("loads", "last", "excluded", "expected"),
    [
        ({"alice": 3, "bob": 1, "carol": 2, "dave": 5}, None, (), "bob"),
        ({"alice": 3, "bob": 2, "carol": 2, "dave": 2}, None, (), "bob"),  # tie: roster order
        ({}, None, (), "alice"),  # nobody holds anything: roster order
        ({"alice": 1, "bob": 1, "carol": 1}, None, (), "dave"),  # missing means none held
        ({"alice": 0, "bob": 0}, None, ("alice",), "bob"),  # never the excluded, however idle
        ({"alice": 9, "bob": 9, "carol": 9, "dave": 9}, None, (), "alice"),
        # A tie is broken in rotation order after the last assignee, so ties spread out.
        ({"alice": 1, "bob": 1, "carol": 1, "dave": 1}, "bob", (), "carol"),
        ({"alice": 0, "bob": 5, "carol": 5, "dave": 5}, "bob", (), "alice"),  # load beats rotation
        ({"lena": 0, "alice": 4}, None, ("bob", "carol", "dave"), "alice"),  # an idle lead waits her turn
    ],
)
def test_least_loaded(loads: dict[str, int], last: str | None, excluded: tuple[str, ...], expected: str) -> None:
    esc = esc_for(Rotation.least_loaded, excluded=excluded)
    assert pick(esc, Roster(loads=loads, last_assigned=last)) == expected


def test_least_loaded_falls_back_to_the_lead() -> None:
    esc = esc_for(Rotation.least_loaded, excluded=("alice", "bob", "carol", "dave"))
    assert pick(esc, Roster(loads={"lena": 7})) == "lena"


# ---------------------------------------------------------------- through decide


def test_reassigned_away_is_never_chosen_again() -> None:
    esc = run(opened(), (assign(RITA, ALICE), T0))
    esc = run(esc, (reassign(RITA, roster=Roster(last_assigned="carol")), T0 + M))
    assert esc.owner is not None and esc.owner.expert == "bob"  # wraps to alice, but she was moved away
    assert esc.excluded == ("alice",)


def test_declined_is_never_chosen_again_even_when_least_loaded() -> None:
    esc = opened(community(rotation=Rotation.least_loaded))
    esc = run(esc, (assign(RITA, ALICE), T0))
    roster = Roster(loads={"alice": 0, "bob": 3, "carol": 2})
    decision = decide(esc, decline(ALICE, roster=roster), T0 + M)
    assert decision.escalation.owner is not None
    assert decision.escalation.owner.expert == "carol"


# ---------------------------------------------------------------- a property over every roster

KEYS = ["alice", "bob", "carol", "dave"]


@settings(max_examples=200, deadline=None)
@given(
    rotation=st.sampled_from(list(Rotation)),
    excluded=st.lists(st.sampled_from([*KEYS, "lena"]), unique=True),
    owner=st.none() | st.sampled_from([*KEYS, "lena"]),
    requester=st.sampled_from(["rita", *KEYS, "lena"]),
    last=st.none() | st.sampled_from([*KEYS, "lena", "gone"]),
    loads=st.dictionaries(st.sampled_from([*KEYS, "lena"]), st.integers(0, 5)),
)
def test_choice_respects_every_rule(
    rotation: Rotation,
    excluded: list[str],
    owner: str | None,
    requester: str,
    last: str | None,
    loads: dict[str, int],
) -> None:
    esc = esc_for(rotation, excluded=tuple(excluded), owner=owner, requester=person(requester))
    chosen = pick(esc, Roster(loads=loads, last_assigned=last))
    eligible = [k for k in KEYS if k not in excluded and k != owner and k != requester]
    lead_eligible = "lena" not in excluded and owner != "lena" and requester != "lena"
    if eligible:
        assert chosen in eligible  # never excluded, the owner, the requester, nor the lead
        if rotation in (Rotation.least_loaded, Rotation.expertise):  # expertise with no evidence: least loaded
            assert loads.get(chosen, 0) == min(loads.get(k, 0) for k in eligible)
        else:
            start = KEYS.index(last) + 1 if last in KEYS else 0
            order = KEYS[start:] + KEYS[:start]
            assert chosen == next(k for k in order if k in eligible)
    else:
        assert chosen == ("lena" if lead_eligible else None)
