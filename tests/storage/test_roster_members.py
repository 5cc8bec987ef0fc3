"""join / leave for open communities over a real database: stored, honoured by another
replica, a leaver's assigned question moved on, closed communities refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, BEN, CHEN, LEE, SAM, RecordingSender, directory, slack
from workflows.clock import FakeClock
from workflows.commands import Assign
from workflows.errors import Reason, Refused
from workflows.model import Community, Expert, PersonRef, Platform
from workflows.presence import with_members
from workflows.requests import Join, Leave

CONFIG = """
defaults:
  policy: {nudge_after: 30m, assign_after: 2h}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA"]
    lead: "slack:U0LEE"
    open_roster: true
  - key: billing
    name: Billing
    slack: {channel: C0BILL001}
    experts: ["slack:U0BILL1"]
    lead: "slack:U0BILLLEAD"
"""
DANA = slack("U0DANA")


def expert(person: PersonRef) -> Expert:
    return Expert(key=person.key, refs=(person,))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([], ["slack:U0ADA"]),
        ([(BEN, True)], ["slack:U0ADA", "slack:U0BEN"]),
        ([(BEN, True), (BEN, True)], ["slack:U0ADA", "slack:U0BEN"]),
        ([(ADA, False)], []),
        ([(ADA, False), (ADA, True)], ["slack:U0ADA"]),
        ([(BEN, True), (BEN, False)], ["slack:U0ADA"]),
    ],
)
def test_with_members(changes: list[tuple[PersonRef, bool]], expected: list[str]) -> None:
    community = Community(key="sdk", name="SDK", experts=(expert(ADA),), open_roster=True)
    assert [e.key for e in with_members(community, changes).experts] == expected


@pytest.fixture
async def replicas(store: Store, clock: FakeClock) -> tuple[Runtime, Runtime]:
    sender = RecordingSender()
    return (
        Runtime(store, directory(CONFIG), {Platform.slack: sender}, clock=clock, holder="one"),
        Runtime(store, directory(CONFIG), {Platform.slack: sender}, clock=clock, holder="two"),
    )


async def test_who_joins_on_one_replica_is_assigned_by_the_other(
    replicas: tuple[Runtime, Runtime], clock: FakeClock
) -> None:
    one, two = replicas
    said = await one.service.presence.respond(BEN, Join("sdk"))
    assert said.text == "You joined the Mobile SDK rotation: questions may be assigned to you from now on."
    assert (await one.service.presence.respond(BEN, Join("sdk"))).text.endswith(
        "already in the Mobile SDK rotation; nothing changed."
    )
    await one.service.presence.away(ADA, "for 1w")
    esc = (await two.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None and [e.key for e in esc.community.experts] == ["slack:U0ADA", "slack:U0BEN"]
    clock.advance(timedelta(hours=2, minutes=1))
    await two.sweep()
    loaded = await two.service.get(esc.id, None)
    assert loaded is not None and loaded.owner is not None and loaded.owner.person.same(BEN)


async def test_who_leaves_is_no_longer_assigned_and_their_question_moves_on(replicas: tuple[Runtime, Runtime]) -> None:
    one, two = replicas
    await one.service.presence.respond(CHEN, Join("sdk"))
    esc = (await one.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    await one.service.handle(Assign(id="a", escalation_id=esc.id, actor=LEE, assignee=ADA))
    said = await two.service.presence.respond(ADA, Leave("sdk"))
    assert said.text == "You left the Mobile SDK rotation. 1 question assigned to you moved on to the next expert."
    loaded = await one.service.get(esc.id, None)
    assert loaded is not None and loaded.owner is not None and loaded.owner.person.same(CHEN)
    assert [e.key for e in loaded.community.experts] == ["slack:U0CHEN"]
    assert (await one.service.presence.respond(ADA, Leave("sdk"))).text.endswith(
        "not in the Mobile SDK rotation; nothing changed."
    )
    async with one.store.unit_of_work() as uow:  # each word audited once, under the community
        assert await uow.audit.count(escalation_id="community:sdk", action="roster_joined", actor=CHEN.key) == 1
        assert await uow.audit.count(escalation_id="community:sdk", action="roster_left", actor=ADA.key) == 1
        assert await uow.audit.count(action="roster_left") == 1  # "nothing changed" is not audited


@pytest.mark.parametrize(
    ("request_", "reason", "message"),
    [
        (Join("billing"), Reason.forbidden, "The Billing rotation is not open to join or leave yourself: ask its lead"),
        (Leave("billing"), Reason.forbidden, "not open to join or leave yourself"),
        (Join("nope"), Reason.unknown_community, "There is no community called “nope”. Open to join: sdk."),
    ],
)
async def test_closed_or_unknown_communities_are_refused_and_nothing_changes(
    replicas: tuple[Runtime, Runtime], request_: Join | Leave, reason: Reason, message: str
) -> None:
    one, _ = replicas
    with pytest.raises(Refused) as refusal:
        await one.service.presence.respond(DANA, request_)
    assert refusal.value.reason == reason and message in refusal.value.message
    async with one.store.unit_of_work() as uow:
        assert await uow.roster_members.of("billing") == []
