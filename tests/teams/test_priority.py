"""Changing a question's priority from its Teams card moves its timers to that priority's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from storage import Store
from workflows.clock import FakeClock
from workflows.model import Priority, Step

from .conftest import BEN, CONFIG, EVE, SAM, Teams, make_teams
from .fakes import FakeConnector, FakeLogin

URGENT = "    policy: {priority: {urgent: {nudge_after: 5m, assign_after: 15m}}}\n"
WITH_PRIORITIES = CONFIG.replace('    lead: "teams:29:lee"\n', '    lead: "teams:29:lee"\n' + URGENT, 1)


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=WITH_PRIORITIES):
        yield harness


async def _opened(teams: Teams) -> tuple[Any, str]:
    await teams.install()
    await teams.say(SAM, "escalate sdk Why does login fail?")
    await teams.runtime.dispatch()
    post = teams.connector.of("create")[-1]
    return await teams.only_escalation(), post.conversation.partition(";messageid=")[2]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for block in card["body"]
        if block.get("type") == "FactSet"
        for fact in block["facts"]
    }


async def test_the_card_offers_the_priority_and_changing_it_reschedules(teams: Teams) -> None:
    esc, root = await _opened(teams)
    card = teams.connector.of("create")[-1].card()
    assert card is not None
    [shown] = [a for a in card["actions"] if a["title"] == "Priority"]
    assert shown["card"]["actions"][0]["verb"] == "priority"
    assert (esc.next_step, esc.next_due_at) == (Step.nudge, esc.created_at + timedelta(minutes=30))

    teams.clock.advance(timedelta(minutes=1))
    response = await teams.act(BEN, "priority", esc, card_message=root, priority="urgent")
    assert response["statusCode"] == 200
    assert _facts(response["value"])["Priority"] == "Urgent"
    esc = await teams.reload(esc)
    assert esc.priority == Priority.urgent
    assert (esc.next_step, esc.next_due_at) == (Step.nudge, esc.created_at + timedelta(minutes=5))


async def test_a_priority_that_does_not_exist_or_a_stranger_changes_nothing(teams: Teams) -> None:
    esc, root = await _opened(teams)
    response = await teams.act(BEN, "priority", esc, card_message=root, priority="asap")
    assert response["value"]["body"][0]["text"] == "Choose a priority: low, normal, high, urgent."
    response = await teams.act(EVE, "priority", esc, card_message=root, priority="urgent")
    assert "can change the priority of this escalation" in response["value"]["body"][0]["text"]
    assert (await teams.reload(esc)).version == esc.version
