"""/escalate away and /escalate back over signed Slack requests: the answer is private, a date
past is refused and nothing stored, and the rotation passes over whoever is away."""

from __future__ import annotations

from datetime import timedelta

from storage import Store
from workflows.clock import FakeClock
from workflows.model import Ownership
from workflows.presence import AWAY_ENDED, AWAY_SET

from .conftest import CONFIG, SlackHarness, make_harness
from .fake_slack import FakeSlack


async def said(slack: SlackHarness, text: str, user: str) -> str:
    reply = await slack.command(text, user=user)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


async def test_away_is_private_and_the_rotation_passes_over_who_is_away(slack: SlackHarness) -> None:
    start = slack.clock.now()
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
    async with slack.runtime.store.unit_of_work() as uow:
        rows = await uow.audit.between(start, slack.clock.now() + timedelta(seconds=1), [AWAY_SET, AWAY_ENDED])
    said_by = [(r.escalation_id, r.action, r.actor, (r.detail or {}).get("via")) for r in rows]
    ada = next(r.actor for r in rows)
    assert ada.endswith("U0ADA") and said_by == [
        (f"person:{ada}", AWAY_SET, ada, "slack"),
        (f"person:{ada}", AWAY_ENDED, ada, "slack"),
    ]


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


async def status(slack: SlackHarness, user: str, emoji: str, text: str, expiration: int) -> None:
    reply = await slack.event("user_status_changed", user=user, emoji=emoji, text=text, expiration=expiration)
    assert reply.status == 200


async def test_a_slack_status_that_says_away_counts_until_it_expires(slack: SlackHarness) -> None:
    expires = int(slack.clock.now().timestamp()) + 3 * 86400  # Thu 5 Mar 09:00 UTC
    await status(slack, "U0ADA", ":palm_tree:", "Skiing", expires)
    async with slack.runtime.store.unit_of_work() as uow:
        [absence] = await uow.absences.away(slack.clock.now())
    assert (absence.person, absence.note, absence.set_by) == ("slack:U0ADA", "Skiing", "system:slack-status")
    reply = await slack.command("sdk Why does the build fail on arm64?")
    assert reply.status == 200
    await slack.settle()
    await slack.wait(hours=2, minutes=1)
    esc = await slack.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == "U0BEN"
    card = str(slack.fake.of("chat.update")[-1].args["blocks"])
    assert "because Ada is away until Thu 05 Mar 2026 09:00 UTC" in card
    # The status cleared: back at once.
    await status(slack, "U0ADA", "", "", 0)
    async with slack.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(slack.clock.now()) == []


async def test_statuses_that_do_not_say_away_change_nothing_and_never_end_a_spoken_away(slack: SlackHarness) -> None:
    later = int(slack.clock.now().timestamp()) + 86400
    await status(slack, "U0ADA", ":palm_tree:", "", 0)  # no expiry: nobody can tell when it ends
    await status(slack, "U0BEN", ":coffee:", "lunch", later)  # not an away status
    await status(slack, "U0DANA", ":palm_tree:", "", later)  # in no rotation
    async with slack.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(slack.clock.now()) == []
    await status(slack, "U0CHEN", ":house:", "Out of Office", later)  # the text counts too
    await said(slack, "away for 1w", "U0BEN")
    await status(slack, "U0BEN", "", "", 0)  # a cleared status does not end what Ben said
    async with slack.runtime.store.unit_of_work() as uow:
        away = {a.person: a.set_by for a in await uow.absences.away(slack.clock.now())}
    assert away == {"slack:U0BEN": "slack:U0BEN", "slack:U0CHEN": "system:slack-status"}


async def test_an_owner_going_away_hands_on_what_they_accepted_unless_they_say_keep(slack: SlackHarness) -> None:
    reply = await slack.command("sdk Why does the build fail on arm64?")
    assert reply.status == 200
    await slack.settle()
    await slack.wait(hours=2, minutes=1)
    esc = await slack.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == "U0ADA"
    accepted = await slack.action({"action_id": "accept", "value": slack.value(esc)}, user="U0ADA", channel="D0ADA")
    assert accepted.status == 200
    await slack.settle()
    kept = await said(slack, "away until friday, keep my questions", "U0ADA")
    assert kept.endswith("You keep 1 question you took on.")
    esc = await slack.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == "U0ADA" and esc.owner.kind == Ownership.accepted
    slack.fake.clear()
    moved = await said(slack, "away for 3d", "U0ADA")
    assert moved.endswith("1 question you held moved on to the next expert.")
    esc = await slack.only_escalation()
    assert esc.owner is not None and esc.owner.person.id == "U0BEN"
    await slack.settle()
    because = "because Ada is away until Thu 05 Mar 2026 11:01 UTC"
    assert any(because in str(c.args) for c in slack.fake.posts("U0BEN"))
    assert any(because in str(c.args) for c in slack.fake.posts("U0SAM"))
