"""Follow the sun over signed Slack requests: the rotation passes over experts outside their
own working hours (``people``: ``timezone``, ``hours``), the audit says who, and the report
counts what it avoided."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.report import HANDED_ACTIONS, build_report
from storage import Store
from workflows.clock import FakeClock

from .conftest import CONFIG, SlackHarness, make_harness, payload
from .fake_slack import FakeSlack

OWN_HOURS = CONFIG.replace(
    "  - {name: Ada, slack: U0ADA}\n  - {name: Ben, slack: U0BEN}\n",
    '  - {name: Ada, slack: U0ADA, timezone: Asia/Tokyo, hours: "09:00-17:30"}\n'
    "  - {name: Ben, slack: U0BEN, timezone: America/New_York}\n",
    1,
)


async def test_assignment_goes_to_whoever_is_inside_their_working_hours(
    store: Store, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    assert OWN_HOURS != CONFIG
    slack, client = await make_harness(store, clock, fake_slack, config=OWN_HOURS)
    try:
        start = clock.now()
        reply = await slack.command("sdk Why does the build fail on arm64?")
        assert reply.status == 200
        await slack.settle()
        # Monday 11:01 UTC: 20:01 in Tokyo and 06:01 in New York; Chen has no hours of his own
        # and the community none, so only he is inside his: round robin would have picked Ada.
        await slack.wait(hours=2, minutes=1)
        esc = await slack.only_escalation()
        assert esc.owner is not None and esc.owner.person.id == "U0CHEN"
        async with store.unit_of_work() as uow:
            rows = await uow.audit.between(start, clock.now() + timedelta(seconds=1), HANDED_ACTIONS)
        [assigned] = [r for r in rows if r.action == "auto_assigned"]
        assert assigned.detail["out_of_hours"] == ["slack:U0ADA", "slack:U0BEN"]
        report = await build_report(store, start, clock.now() + timedelta(seconds=1))
        assert report.total.out_of_hours_avoided == 1
        assert report.experts["slack:U0CHEN"].out_of_hours == 0
    finally:
        await client.close()


async def test_the_slack_profile_time_zone_counts_and_is_cached(slack: SlackHarness) -> None:
    """No hours in the configuration: the zone Slack sends with ``user_change`` is kept, and the
    community's hours (here none: 09:00-17:00 on weekdays) are read in it."""
    start = slack.clock.now()
    for user, zone in (("U0ADA", "Asia/Tokyo"), ("U0BEN", "America/New_York"), ("U0CHEN", "Mars/Olympus_Mons")):
        event = payload("user_change", user=user, emoji="", text="", expiration=0)
        event["user"]["tz"] = zone
        body = json.dumps(payload("event_callback", event=event, event_id=slack.next_id("Ev")))
        assert (await slack.post(body, "application/json")).status == 200
    async with slack.runtime.store.unit_of_work() as uow:
        zones = await uow.person_zones.of(["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"])
    assert zones == {"slack:U0ADA": "Asia/Tokyo", "slack:U0BEN": "America/New_York"}  # not a zone: not kept
    reply = await slack.command("sdk Why does the build fail on arm64?")
    assert reply.status == 200
    await slack.settle()
    await slack.wait(hours=2, minutes=1)  # Monday 11:01 UTC: 20:01 in Tokyo, 06:01 in New York
    esc = await slack.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == "U0CHEN"
    async with slack.runtime.store.unit_of_work() as uow:
        rows = await uow.audit.between(start, slack.clock.now() + timedelta(seconds=1), HANDED_ACTIONS)
    [assigned] = [r for r in rows if r.action == "auto_assigned"]
    assert assigned.detail["out_of_hours"] == ["slack:U0ADA", "slack:U0BEN"]


async def test_away_dates_are_read_in_the_zone_slack_gave(slack: SlackHarness) -> None:
    event = payload("user_change", user="U0ADA", emoji="", text="", expiration=0)
    event["user"]["tz"] = "Asia/Tokyo"
    body = json.dumps(payload("event_callback", event=event, event_id=slack.next_id("Ev")))
    assert (await slack.post(body, "application/json")).status == 200
    reply = await slack.command("away until 2026-03-06", user="U0ADA")
    assert reply.json()["text"].startswith("You are away until Fri 06 Mar 2026 00:00 Asia/Tokyo.")
