"""Times on Teams cards are written out as text in a named zone: Teams does not render the
``{{DATE()}}``/``{{TIME()}}`` functions in its cards, so readers would see the raw braces."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage import Store
from workflows.clock import FakeClock
from workflows.local_time import local_time, reading_zone

from .conftest import CONFIG, SAM, Teams, make_teams, payload
from .fakes import FakeConnector, FakeLogin

PARIS_CONFIG = CONFIG.replace(
    '    lead: "teams:29:lee"\n',
    '    lead: "teams:29:lee"\n'
    "    policy:\n"
    '      business_hours: {timezone: Europe/Paris, days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}\n',
    1,
)


def test_a_time_is_written_in_the_first_known_zone_and_names_it() -> None:
    moment = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)
    assert local_time(moment, reading_zone(None, None)) == "Mon 2 Mar 13:30 (UTC)"
    assert local_time(moment, reading_zone(None, "Europe/Paris")) == "Mon 2 Mar 14:30 (Europe/Paris)"
    assert local_time(moment, reading_zone("America/New_York", "Europe/Paris")) == "Mon 2 Mar 08:30 (America/New_York)"
    # A zone a client sent that we do not know falls through to the next one.
    assert local_time(moment, reading_zone("Mars/Olympus", "Europe/Paris")) == "Mon 2 Mar 14:30 (Europe/Paris)"
    # Summer time is the zone's business: the same UTC moment in July is two hours ahead in Paris.
    july = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert local_time(july, reading_zone("Europe/Paris")) == "Thu 2 Jul 01:30 (Europe/Paris)"


@pytest.fixture
async def paris(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=PARIS_CONFIG):
        yield harness


def _facts(card: dict[str, object] | None) -> dict[str, str]:
    assert card is not None
    body = card["body"]
    assert isinstance(body, list)
    facts = next(b for b in body if b["type"] == "FactSet")["facts"]
    return {f["title"]: f["value"] for f in facts}


async def test_no_card_uses_date_functions_and_times_read_in_a_named_zone(paris: Teams) -> None:
    teams = paris
    await teams.install()
    await teams.say(SAM, "escalate sdk When does the nudge come?")
    await teams.runtime.dispatch()
    [post] = teams.connector.of("create")
    # Opened Monday 09:00 UTC (10:00 in Paris); the nudge is due 30 working minutes later.
    assert _facts(post.card())["Next"] == "Nudge the channel at Mon 2 Mar 10:30 (Europe/Paris)"

    # Status, asked from a client that says its own zone: in that zone.
    activity = payload("personal_message", **teams.values(user=SAM[0], name=SAM[1], text="status"))
    activity["localTimezone"] = "America/New_York"
    response = await teams.post(activity)
    assert response.status == 200, await response.text()
    status = json.dumps(teams.connector.calls[-1].card())
    assert "Nudge the channel at Mon 2 Mar 04:30 (America/New_York)" in status

    # Every kind of message the sender produces: card, updates, thread, DMs, the digest.
    for _ in range(3):
        teams.clock.advance(timedelta(hours=3))
        await teams.runtime.sweep()
        await teams.runtime.dispatch()
    teams.clock.set(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # Tuesday 09:00 in Paris: digest time
    await teams.runtime.digest()
    await teams.runtime.dispatch()
    kinds = {call.kind for call in teams.connector.calls}
    assert {"create", "send", "update"} <= kinds
    assert any("Daily digest" in json.dumps(call.body) for call in teams.connector.calls)
    for call in teams.connector.calls:
        sent = json.dumps(call.body)
        assert "{{DATE" not in sent and "{{TIME" not in sent, call.kind
