"""Away and back are audited like every other action, in the transaction that changes the
absence: who said it, for whom, until when, the words, and where (the chat's platform or the
console); and who may say it for someone else is the core's rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime import Runtime
from storage import Store
from storage.console import ConsoleStore
from tests.support import ADA, BEN, CONFIG, LEE, RecordingSender, directory, slack
from workflows.clock import FakeClock
from workflows.console import AwaySaid
from workflows.errors import Reason, Refused
from workflows.model import PersonRef, Platform
from workflows.presence import AWAY_ENDED, AWAY_SET, availability_subject, people_of
from workflows.requests import Away, Back

ADMIN = slack("U0ADMIN")
BILL = slack("U0BILL1")
TEAMS = PersonRef(platform=Platform.teams, id="29:dana", tenant="contoso", name="Dana")


@pytest.fixture
def runtime(store: Store, clock: FakeClock) -> Runtime:
    config = CONFIG + 'admins: ["slack:T0ACME/U0ADMIN"]\n'
    return Runtime(store, directory(config), {Platform.slack: RecordingSender()}, clock=clock)


async def trail(runtime: Runtime, person: PersonRef) -> list[tuple[str, str, str, dict[str, object] | None]]:
    async with runtime.store.unit_of_work() as uow:
        rows = await uow.audit.for_escalation(availability_subject(person))
    return [(r.action, r.actor, r.platform, r.detail) for r in rows]


async def test_the_chats_away_and_back_are_audited_with_the_platform(runtime: Runtime, clock: FakeClock) -> None:
    presence = runtime.service.presence
    await presence.respond(ADA, Away("until 2026-03-06 conference"))
    await presence.respond(ADA, Back())
    await presence.respond(ADA, Back())  # not away: nothing changed, nothing audited
    assert await trail(runtime, ADA) == [
        (
            AWAY_SET,
            ADA.key,
            "slack",
            {
                "person": ADA.key,
                "until": datetime(2026, 3, 6, tzinfo=UTC).isoformat(),
                "words": "until 2026-03-06 conference",
                "via": "slack",
                "by_name": ADA.key,
            },
        ),
        (AWAY_ENDED, ADA.key, "slack", {"person": ADA.key, "via": "slack"}),
    ]
    await presence.respond(TEAMS, Away(""), "UTC")
    await presence.respond(TEAMS, Back())
    [(action, actor, platform, detail), ended] = await trail(runtime, TEAMS)
    assert (action, actor, platform) == (AWAY_SET, TEAMS.key, "teams")
    assert detail == {"person": TEAMS.key, "until": None, "words": "", "via": "teams", "by_name": "Dana"}
    assert ended[0] == AWAY_ENDED and ended[3] == {"person": TEAMS.key, "via": "teams"}
    async with runtime.store.unit_of_work() as uow:
        rows = await uow.audit.for_escalation(availability_subject(ADA))
    assert [r.at for r in rows] == [clock.now(), clock.now()] and {r.tenant for r in rows} == {"T0ACME"}


async def test_words_refused_write_neither_the_absence_nor_the_audit(runtime: Runtime, clock: FakeClock) -> None:
    with pytest.raises(Refused, match="has already begun"):
        await runtime.service.presence.respond(ADA, Away("until 2026-03-01"))
    async with runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(clock.now()) == []
    assert await trail(runtime, ADA) == []


async def test_the_lead_an_admin_or_the_person_may_set_it_for_them_and_nobody_else(
    runtime: Runtime, clock: FakeClock
) -> None:
    presence, communities = runtime.service.presence, runtime.service.directory
    sdk, billing = communities.get("sdk"), communities.get("billing")
    assert sdk is not None and billing is not None
    ben = next(p for p in people_of(sdk) if p.key == BEN.key)
    bill = next(p for p in people_of(billing) if p.key == BILL.key)
    for actor, community, person in ((ADA, sdk, ben), (LEE, billing, bill)):  # a member; another community's lead
        with pytest.raises(Refused) as refused:
            await presence.set_for(actor, community, person, "for 3d", via="console")
        assert refused.value.reason == Reason.forbidden
        with pytest.raises(Refused):
            await presence.set_for(actor, community, person, None, via="console")
    assert await trail(runtime, BEN) == [] and await trail(runtime, BILL) == []
    async with runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(clock.now()) == []

    await presence.set_for(LEE, sdk, ben, "for 3d at a conference", via="console")
    await presence.set_for(ADMIN, sdk, ben, None, via="console")
    await presence.set_for(BEN, sdk, ben, "", via="console")  # themself
    assert [(a, actor, (d or {}).get("via")) for a, actor, _, d in await trail(runtime, BEN)] == [
        (AWAY_SET, LEE.key, "console"),
        (AWAY_ENDED, ADMIN.key, "console"),
        (AWAY_SET, BEN.key, "console"),
    ]
    async with runtime.store.unit_of_work() as uow:
        [absence] = await uow.absences.away(clock.now())
    assert absence.set_by == BEN.key


async def test_the_console_shows_who_said_the_absence_in_force_and_none_for_a_slack_status(
    runtime: Runtime, clock: FakeClock
) -> None:
    queries, presence = ConsoleStore(runtime.store), runtime.service.presence
    sdk = runtime.service.directory.get("sdk")
    assert sdk is not None
    people = people_of(sdk)
    ben = next(p for p in people if p.key == BEN.key)
    await presence.set_for(LEE, sdk, ben, "for 3d", via="console")
    await presence.away(ADA, "for 1d")
    assert await queries.away_said(people, clock.now()) == {
        BEN.key: AwaySaid(clock.now(), LEE.key, "console"),  # LEE has no name here: their id
        ADA.key: AwaySaid(clock.now(), ADA.key, "slack"),
    }
    clock.advance(timedelta(minutes=5))
    # A Slack status now says Ada is away: nobody said it, so no "set by" (not the older words').
    assert await presence.slack_status(ADA, ":palm_tree:", "Skiing", int((clock.now() + timedelta(days=2)).timestamp()))
    said = await queries.away_said(people, clock.now())
    assert list(said) == [BEN.key]
