"""/escalate away and /escalate back over signed Slack requests: the answer is private, a date
past is refused and nothing stored, and the rotation passes over whoever is away."""

from __future__ import annotations

from storage import Store
from workflows.clock import FakeClock

from .conftest import CONFIG, SlackHarness, make_harness
from .fake_slack import FakeSlack


async def said(slack: SlackHarness, text: str, user: str) -> str:
    reply = await slack.command(text, user=user)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


async def test_away_is_private_and_the_rotation_passes_over_who_is_away(slack: SlackHarness) -> None:
    answer = await said(slack, "away until 2026-03-06 at the <offsite> & more", "U0ADA")
    # No business hours in this community and no zone from Slack: UTC, said so.
    assert answer.startswith("You are away until Fri 06 Mar 2026 00:00 UTC (at the &lt;offsite&gt; &amp; more).")
    reply = await slack.command("sdk Why does the build fail on arm64?")
    assert reply.status == 200
    await slack.settle()
    await slack.wait(hours=2, minutes=1)
    esc = await slack.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == "U0BEN"
    # The card says why it went to Ben.
    card = str(slack.fake.of("chat.update")[-1].args["blocks"])
    assert "Assigned to <@U0BEN> (not yet accepted), because Ada is away until Fri 06 Mar 2026 00:00 UTC" in card
    nudges = [c for c in slack.fake.posts(thread=True) if "waited" in c.args["text"]]
    assert nudges and all("<@U0ADA>" not in c.args["text"] for c in nudges)
    assert (await said(slack, "back", "U0ADA")).startswith("Welcome back")


async def test_a_date_past_or_unknown_is_refused_privately_and_nothing_changes(slack: SlackHarness) -> None:
    answer = await said(slack, "away until 2026-03-01", "U0ADA")
    assert answer == "Sun 01 Mar 2026 00:00 UTC has already begun; say a date still to come."
    assert (await said(slack, "away for ages", "U0ADA")).startswith("“ages” is not a duration")
    assert await said(slack, "back", "U0ADA") == "You were not away; nothing changed."


async def test_join_and_leave_an_open_rotation(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> None:
    config = CONFIG.replace('    lead: "slack:U0LEE"\n', '    lead: "slack:U0LEE"\n    open_roster: true\n', 1)
    slack, client = await make_harness(store, clock, fake_slack, config=config)
    try:
        joined = await said(slack, "join sdk", "U0DANA")
        assert joined == "You joined the Mobile SDK rotation: questions may be assigned to you from now on."
        assert (await said(slack, "leave sdk", "U0ADA")) == "You left the Mobile SDK rotation."
        refused = await said(slack, "join billing", "U0DANA")
        assert refused.startswith("The Billing rotation is not open to join or leave yourself")
        assert (await said(slack, "join", "U0DANA")).startswith("Say which community:")
        reply = await slack.command("sdk Why does the build fail on arm64?")
        assert reply.status == 200
        esc = await slack.only_escalation()
        assert [e.key for e in esc.community.experts] == ["slack:U0BEN", "slack:U0CHEN", "slack:U0DANA"]
    finally:
        await client.close()
