"""away / back typed to the bot in Teams: dates in the zone the person's client reports, a
date past refused to them alone, and the rotation passing over whoever is away."""

from __future__ import annotations

from datetime import timedelta

from storage import Store
from workflows.clock import FakeClock
from workflows.model import Ownership
from workflows.presence import AWAY_ENDED, AWAY_SET

from .conftest import ADA, BEN, CONFIG, EVE, SAM, Teams, make_teams, payload
from .fakes import FakeConnector, FakeLogin


async def say_privately(teams: Teams, who: tuple[str, str], text: str, zone: str | None = None) -> str:
    activity = payload("personal_message", **teams.values(user=who[0], name=who[1], text=text))
    if zone:
        activity["localTimezone"] = zone
    teams.connector.clear()
    response = await teams.post(activity)
    assert response.status == 200, await response.text()
    [reply] = teams.connector.of("reply")
    return reply.text()


async def test_away_in_my_zone_then_the_rotation_passes_me_over_then_back(teams: Teams) -> None:
    await teams.install()
    start = teams.clock.now()
    said = await say_privately(teams, ADA, "away until 2026-03-06 offsite", "America/New_York")
    # Teams message text is markdown: the underscore comes escaped.
    assert said.startswith("You are away until Fri 06 Mar 2026 00:00 America/New\\_York (offsite).")
    await teams.say(SAM, "escalate sdk Why does login fail?")
    esc = await teams.only_escalation()
    teams.clock.advance(timedelta(hours=2, minutes=1))
    await teams.runtime.sweep()
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == BEN[0]
    await teams.runtime.dispatch()
    card = teams.connector.of("update")[-1].card()
    assert card is not None
    status = "Assigned to Ben (not yet accepted), because Ada is away until Fri 06 Mar 2026 05:00 UTC"
    assert status in str(card)  # New York's midnight, said in the community's zone (UTC here)
    assert (await say_privately(teams, ADA, "back")).startswith("Welcome back")
    async with teams.runtime.store.unit_of_work() as uow:
        rows = await uow.audit.between(start, teams.clock.now() + timedelta(seconds=1), [AWAY_SET, AWAY_ENDED])
    said_by = [(r.action, r.actor, r.platform, (r.detail or {}).get("via")) for r in rows]
    key = next(r.actor for r in rows)
    assert (
        key.startswith("teams:")
        and key.endswith("29:ada")
        and said_by == [(AWAY_SET, key, "teams", "teams"), (AWAY_ENDED, key, "teams", "teams")]
    )
    assert rows[0].escalation_id == f"person:{key}" and (rows[0].detail or {})["words"] == "until 2026-03-06 offsite"


async def test_a_date_past_or_unknown_is_refused_and_nothing_changes(teams: Teams) -> None:
    await teams.install()
    said = await say_privately(teams, ADA, "away until 2026-03-01", "Europe/London")
    assert said == "Sun 01 Mar 2026 00:00 Europe/London has already begun; say a date still to come."
    said = await say_privately(teams, ADA, "away until someday")
    assert said.startswith("“someday” is not a date I know")
    assert (await say_privately(teams, ADA, "back")) == "You were not away; nothing changed."


async def test_join_and_leave_an_open_rotation(
    store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector
) -> None:
    config = CONFIG.replace('    lead: "teams:29:lee"\n', '    lead: "teams:29:lee"\n    open_roster: true\n', 1)
    async for teams in make_teams(store, clock, login, connector, communities=config):
        await teams.install()
        assert (await say_privately(teams, EVE, "join sdk")).startswith("You joined the Mobile SDK rotation")
        assert (await say_privately(teams, ADA, "leave sdk")) == "You left the Mobile SDK rotation."
        refused = await say_privately(teams, EVE, "join billing")
        assert refused.startswith("The Billing rotation is not open to join or leave yourself")


async def test_an_owner_going_away_hands_on_what_they_accepted_unless_they_say_keep(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "escalate sdk Why does login fail?")
    teams.clock.advance(timedelta(hours=2, minutes=1))
    await teams.runtime.sweep()
    esc = await teams.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == ADA[0]
    await teams.act(ADA, "accept", esc, personal=True)
    said = await say_privately(teams, ADA, "away for 3d keep")
    assert said.endswith("You keep 1 question you took on.")
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == ADA[0] and esc.owner.kind == Ownership.accepted
    said = await say_privately(teams, ADA, "away for 3d")
    assert said.endswith("1 question you held moved on to the next expert.")
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == BEN[0]
    teams.connector.clear()
    await teams.runtime.dispatch()
    sent = " ".join(str(c.body) for c in teams.connector.calls)
    assert "It comes to you because Ada is away until" in sent
    assert "Your question is now assigned to Ben, because Ada is away until" in sent
