"""Routing by expertise on Teams, over Bot Framework activities against the fake Bot Connector:
a question like ones Chen answered is assigned to Chen, who is told why; the card shows who
answered similar questions (Teams-escaped, opening the latest one's thread), whatever the rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from storage import Store
from workflows.clock import FakeClock
from workflows.commands import Resolve
from workflows.model import Escalation

from .conftest import CONFIG, SAM, Teams, make_teams
from .fakes import FakeConnector, FakeLogin
from .test_knowledge import actions_of, in_community, person, texts

CHEN = ("29:chen", "Chen")
BEN = ("29:ben", "Ben")
NO_WAIT = "    policy: {deflection_wait: off}\n"
ROUND_ROBIN = CONFIG.replace('    lead: "teams:29:lee"\n', '    lead: "teams:29:lee"\n' + NO_WAIT, 1)
EXPERTISE = CONFIG.replace(
    '    lead: "teams:29:lee"\n', '    lead: "teams:29:lee"\n    rotation: expertise\n' + NO_WAIT, 1
)


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=EXPERTISE):
        yield harness


@pytest.fixture
async def round_robin(
    store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector
) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=ROUND_ROBIN):
        yield harness


async def _answered(teams: Teams, question: str, by: tuple[str, str]) -> Escalation:
    outcome = await teams.runtime.service.open(requester=person(SAM), community_key="sdk", question=question)
    esc = outcome.escalation
    assert esc is not None and not esc.held
    await teams.runtime.dispatch()
    await teams.runtime.service.handle(Resolve(id=f"r-{esc.id}", escalation_id=esc.id, actor=person(by), answer="Yes"))
    await teams.runtime.dispatch()
    return esc


async def _history(teams: Teams) -> None:
    await teams.install()
    await _answered(teams, "Push token is empty after reinstall on iOS", CHEN)
    teams.clock.advance(timedelta(days=1))
    await _answered(teams, "Push token **not** refreshed", CHEN)
    await _answered(teams, "Crash on login with SSO enabled", BEN)


async def _ask(teams: Teams, question: str) -> tuple[Escalation, dict[str, Any]]:
    before = {e.id for e in await in_community(teams)}
    await teams.say(SAM, f"escalate sdk {question}")
    await teams.runtime.dispatch()
    [esc] = [e for e in await in_community(teams) if e.id not in before]
    card = teams.connector.of("create")[-1].card()
    assert card is not None
    return esc, card


async def test_the_question_goes_to_who_answered_similar_ones_and_everyone_is_told_why(teams: Teams) -> None:
    await _history(teams)
    esc, card = await _ask(teams, "Android push token is not refreshed after update")
    shown = texts(card)
    at = shown.index("Answered similar questions")
    assert shown[at + 1] == "Chen: 2 (latest: “Push token \\*\\*not\\*\\* refreshed”)"
    assert any("/l/message/" in a["url"] for a in actions_of(card, "Action.OpenUrl"))

    teams.clock.advance(timedelta(hours=2, minutes=1))  # past assign_after: round robin would pick Ada
    await teams.runtime.sweep()
    await teams.runtime.dispatch()
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.expert == "teams:29:chen"
    dm = teams.connector.dms_to("29:chen")[-1].card()
    why = "Chen answered 2 similar questions, latest: “Push token \\*\\*not\\*\\* refreshed”"
    assert any(f"It comes to you because {why}." in t for t in texts(dm))


async def test_round_robin_cards_show_who_answered_similar_questions_too(round_robin: Teams) -> None:
    teams = round_robin
    await _history(teams)
    _, card = await _ask(teams, "Crash on login after SSO change")
    shown = texts(card)
    assert shown[shown.index("Answered similar questions") + 1].startswith("Ben: 1 (latest: “Crash on login")
