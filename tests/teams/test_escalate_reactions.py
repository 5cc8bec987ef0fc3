"""Issue 25 in Teams: Teams sends a bot ``messageReaction`` activities only for reactions to the
bot's own messages (even with the ChannelMessage.Read.Group permission, which brings messages,
not reactions), and without the message's text. So an emoji in ``escalate_reactions`` escalates
nothing in Teams (docs/teams.md says so; the message action does it); these tests pin that what
Teams does send keeps doing what it did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage import Store
from workflows.clock import FakeClock
from workflows.model import Ownership

from .conftest import BEN, CONFIG, SAM, SUPPORT, FakeConnector, FakeLogin, Teams, make_teams, payload

WITH_REACTIONS = CONFIG + "escalate_reactions: {like: sdk, surprised: sdk}\n"


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=WITH_REACTIONS):
        yield harness


async def reaction(teams: Teams, who: tuple[str, str], kind: str, **values: Any) -> None:
    activity = payload("reaction", **teams.values(user=who[0], name=who[1], **values))
    activity["reactionsAdded"] = [{"type": kind}]
    response = await teams.post(activity)
    assert response.status == 200, await response.text()


async def test_a_mapped_reaction_on_a_message_the_bot_did_not_post_opens_nothing(teams: Teams) -> None:
    await teams.install()
    teams.connector.clear()
    # What Teams would send if it told bots of reactions to people's messages: no text to escalate.
    await reaction(teams, SAM, "surprised", channel=SUPPORT, root="1677000999001")
    async with teams.runtime.store.unit_of_work() as uow:
        assert await uow.escalations.list_by_community("sdk") == []
    assert await teams.runtime.dispatch() == 0
    assert teams.connector.calls == []


async def test_a_reaction_on_the_card_still_claims_it(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "escalate sdk Why does login fail?")
    await teams.runtime.dispatch()
    root = teams.connector.of("create")[-1].conversation.partition(";messageid=")[2]
    await reaction(teams, BEN, "surprised", root=root)
    esc = await teams.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == BEN[0] and esc.owner.kind == Ownership.claimed
