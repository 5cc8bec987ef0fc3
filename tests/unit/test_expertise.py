"""Routing by expertise: who answered similar questions, recent ones weighing more, ties by
load, no evidence: least loaded; explained to the people concerned, in the audit and on the card."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.helpers import ALICE, BOB, CAROL, LENA, RITA, T0, community, fire, open_cmd, person
from workflows.commands import Roster
from workflows.decide import Decision, card_view, decide
from workflows.effects import Notify, ThreadReply
from workflows.expertise import HALF_LIFE, by_expertise, reason, standings, title, weight
from workflows.model import Escalation, Expert, MessageRef, Platform, Precedent, Rotation, Step
from workflows.rotation import choose_expert

D = timedelta(days=1)
EXPERTS = tuple(Expert(key=p.id, refs=(p,), name=p.name) for p in (ALICE, BOB, CAROL))


def said(who: str, *, days_ago: float = 1, relevance: float = 1.0, n: int = 0, question: str = "") -> Precedent:
    return Precedent(
        escalation_id=f"old-{who}-{n}-{days_ago}",
        question=question or f"Replica lag question {n}",
        answered_by=f"slack:{who}",
        resolved_at=T0 - days_ago * D,
        relevance=relevance,
        card=MessageRef(platform=Platform.slack, channel="C1", id=f"17000000{n}.0001", tenant="T1"),
    )


def ranked(precedents: list[Precedent], loads: dict[str, int] | None = None) -> list[str]:
    return [e.key for e in by_expertise(EXPERTS, precedents, loads or {}, T0)]


@pytest.mark.parametrize(
    ("precedents", "loads", "first"),
    [
        # no evidence at all: least loaded, then the rotation's order
        ([], {}, "alice"),
        ([], {"alice": 2, "bob": 1, "carol": 1}, "bob"),
        # evidence from people outside the candidates counts for nobody
        ([said("zed", n=1)], {"alice": 1}, "bob"),
        # more similar answers win
        ([said("bob", n=1), said("carol", n=2), said("carol", n=3)], {}, "carol"),
        # closer answers win over more distant ones
        ([said("bob", relevance=1.0), said("carol", relevance=0.2, n=2), said("carol", relevance=0.2, n=3)], {}, "bob"),
        # recent answers weigh more: one from last week beats two from two years ago
        ([said("bob", days_ago=7), said("carol", days_ago=730, n=2), said("carol", days_ago=731, n=3)], {}, "bob"),
        # a tie in evidence goes to the less loaded
        ([said("bob", n=1), said("carol", n=2)], {"bob": 3, "carol": 1}, "carol"),
        ([said("bob", n=1), said("carol", n=2)], {"bob": 0, "carol": 1}, "bob"),
        # evidence outweighs load
        ([said("carol", n=1)], {"carol": 5}, "carol"),
    ],
)
def test_ranking(precedents: list[Precedent], loads: dict[str, int], first: str) -> None:
    assert ranked(precedents, loads)[0] == first


def test_weight_halves_every_half_life_and_scales_with_closeness() -> None:
    fresh = said("bob", days_ago=0)
    assert weight(fresh, 1.0, T0) == pytest.approx(1.0)
    old = fresh.model_copy(update={"resolved_at": T0 - HALF_LIFE})
    assert weight(old, 1.0, T0) == pytest.approx(0.5)
    assert weight(fresh.model_copy(update={"relevance": 0.5}), 1.0, T0) == pytest.approx(0.25)
    # the engines' scales do not matter: only the ratio to the best match
    assert weight(fresh.model_copy(update={"relevance": 0.05}), 0.1, T0) == pytest.approx(0.25)


def test_reason_counts_and_quotes_the_latest() -> None:
    found = standings(
        EXPERTS,
        [said("alice", days_ago=9, n=1), said("alice", days_ago=2, n=2, question="Lag after failover\nmore")],
        T0,
    )
    assert [(s.expert.key, s.answered) for s in found] == [("alice", 2)]
    assert reason(found[0]) == "Alice answered 2 similar questions, latest: “Lag after failover”"
    assert title("x" * 200).endswith("…") and len(title("x" * 200)) == 80


def esc_with(precedents: list[Precedent], rotation: Rotation = Rotation.expertise) -> Escalation:
    comm = community(experts=(ALICE, BOB, CAROL), lead=LENA, rotation=rotation)
    return decide(None, open_cmd(comm, precedents=tuple(precedents)), T0).escalation


def to_assignment(esc: Escalation, roster: Roster) -> tuple[Escalation, Decision]:
    fire_nudge = fire(esc, roster)
    assert fire_nudge.escalation.next_step == Step.assign
    return fire_nudge.escalation, fire(fire_nudge.escalation, roster)


def test_assignment_goes_to_who_answered_and_says_why_to_everyone_and_the_audit() -> None:
    esc = esc_with(
        [said("carol", n=1), said("carol", n=2, days_ago=0.5, question="Replica lag after a restore"), said("bob", n=3)]
    )
    _, decision = to_assignment(esc, Roster(loads={"carol": 4}))
    assert decision.escalation.owner is not None and decision.escalation.owner.expert == "carol"
    why = "Carol answered 2 similar questions, latest: “Replica lag after a restore”"
    notes = {e.person.id: e.text for e in decision.effects if isinstance(e, Notify)}
    assert f"It comes to you because {why}." in notes["carol"]
    assert f"because {why}." in notes["rita"]
    assert decision.detail["because"] == why
    assert decision.detail["expertise"]["answered"] == 2


def test_available_first_an_expert_away_is_never_chosen_however_expert() -> None:
    esc = esc_with([said("carol", n=1), said("carol", n=2), said("bob", n=3)])
    _, decision = to_assignment(esc, Roster(away={"carol": T0 + 10 * D}))
    assert decision.escalation.owner is not None and decision.escalation.owner.expert == "bob"
    assert "carol" in decision.detail["away"]
    because = decision.detail["because"]
    assert because.startswith("Bob answered 1 similar question, latest: ") and "; Carol is away until" in because


def test_no_evidence_falls_back_to_least_loaded_without_a_reason() -> None:
    _, decision = to_assignment(esc_with([]), Roster(loads={"alice": 2, "bob": 0, "carol": 1}))
    assert decision.escalation.owner is not None and decision.escalation.owner.expert == "bob"
    assert "because" not in decision.detail and "expertise" not in decision.detail


def test_the_requester_is_never_chosen_even_with_the_most_evidence() -> None:
    comm = community(experts=(ALICE, BOB, CAROL), lead=LENA, rotation=Rotation.expertise)
    esc = decide(None, open_cmd(comm, actor=ALICE, precedents=(said("alice", n=1), said("bob", n=2))), T0).escalation
    chosen = choose_expert(esc, Roster(), T0)
    assert chosen is not None and chosen.key == "bob"


@pytest.mark.parametrize("rotation", list(Rotation))
def test_the_card_shows_up_to_three_who_answered_similar_questions_whatever_the_rotation(rotation: Rotation) -> None:
    dave = person("dave")
    comm = community(experts=(ALICE, BOB, CAROL, dave), lead=LENA, rotation=rotation)
    evidence = (
        said("bob", n=1),
        said("carol", n=2),
        said("carol", n=3),
        said("dave", n=4),
        said("lena", n=5, days_ago=400),
    )
    esc = decide(None, open_cmd(comm, precedents=evidence), T0).escalation
    view = card_view(esc)
    assert [(a.name, a.answered) for a in view.likely] == [("Carol", 2), ("Bob", 1), ("Dave", 1)]
    assert view.likely[0].latest_card is not None
    closed = esc.model_copy(update={"status": "resolved"})
    assert card_view(closed).likely == ()


def test_the_nudge_names_the_likely_experts_first() -> None:
    esc = esc_with([said("carol", n=1), said("bob", n=2, days_ago=300)], rotation=Rotation.round_robin)
    decision = fire(esc, Roster())
    nudge = next(e for e in decision.effects if isinstance(e, ThreadReply))
    assert [m.id for m in nudge.mentions] == ["carol", "bob", "alice"]


def test_precedents_kept_are_bounded() -> None:
    esc = esc_with([said("bob", n=n, question="why " * 5000) for n in range(50)])
    assert len(esc.precedents) == 20
    assert all(len(p.question) <= 80 for p in esc.precedents)
    assert RITA.id not in {p.answered_by for p in esc.precedents}
