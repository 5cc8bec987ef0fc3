"""Issue 25 in Slack: an emoji on a message escalates it (``escalate_reactions``). Signed
``reaction_added`` events against the fake Web API; the message is read from it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage import Store
from workflows.clock import FakeClock
from workflows.model import Escalation, Status

from .conftest import CHANNEL, CONFIG, SlackHarness, make_harness
from .fake_slack import WORKSPACE_URL, FakeSlack
from .test_knowledge import answered

SUPPORT = "C0SUPPORT1"
ELSEWHERE = "C0RANDOM01"
ASKED = "1772440000.000100"
REACTIONS = f"""
escalate_reactions: {{sos: sdk}}
channels:
  {SUPPORT}: {{escalate_reactions: {{moneybag: billing}}}}
"""


@pytest.fixture
async def slack(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness, client = await make_harness(store, clock, fake_slack, config=CONFIG + REACTIONS)
    fake_slack.users["U0DANA"] = {"id": "U0DANA", "team_id": "T0CUSTOMER", "profile": {"real_name": "Dana Ortiz"}}
    fake_slack.messages[SUPPORT] = [
        {"ts": ASKED, "user": "U0DANA", "text": "Since 4.2 the app crashes on login &lt;b&gt; <!channel>"},
        {"ts": "1772440000.000200", "user": "U0DANA", "text": "Also on tablets", "thread_ts": ASKED},
    ]
    try:
        yield harness
    finally:
        await client.close()


def dump(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


async def react(
    slack: SlackHarness,
    user: str,
    reaction: str = "sos",
    *,
    channel: str = SUPPORT,
    ts: str = ASKED,
    event_id: str | None = None,
    retry: int | None = None,
) -> None:
    reply = await slack.event(
        "reaction_added", user=user, reaction=reaction, channel=channel, ts=ts, event_id=event_id, retry=retry
    )
    assert reply.status == 200, reply.text


async def all_escalations(slack: SlackHarness) -> list[Escalation]:
    async with slack.runtime.store.unit_of_work() as uow:
        return await uow.escalations.list_by_community("sdk") + await uow.escalations.list_by_community("billing")


def notes(slack: SlackHarness, thread: str = ASKED) -> list[str]:
    return [c.args["text"] for c in slack.fake.posts(SUPPORT, thread=True) if c.args.get("thread_ts") == thread]


async def test_an_emoji_escalates_the_message_and_its_thread_hears_the_answer(slack: SlackHarness) -> None:
    fake = slack.fake
    await react(slack, "U0SAM", event_id="EvSOS1")
    esc = await slack.only_escalation()
    # The message is the question (as people read it), its author the context, its permalink the
    # link, and whoever reacted the requester.
    assert esc.question == "Since 4.2 the app crashes on login <b> <!channel>"
    assert esc.customer == "Message by Dana Ortiz"
    assert esc.link == f"{WORKSPACE_URL}archives/{SUPPORT}/p{ASKED.replace('.', '')}"
    assert esc.requester.id == "U0SAM" and esc.requester.tenant == "T0ACME"
    assert esc.community.key == "sdk"
    assert esc.source is not None and (esc.source.channel, esc.source.id) == (SUPPORT, ASKED)
    [told] = fake.of("chat.postEphemeral", channel=SUPPORT, user="U0SAM")
    assert "Escalated to *Mobile SDK*" in told.args["text"]

    await slack.settle()
    [card] = fake.posts(CHANNEL, thread=False)
    assert "Since 4.2 the app crashes on login &lt;b&gt; &lt;!channel&gt;" in dump(card.args)
    assert "Dana Ortiz" in dump(card.args)
    card_url = f"{WORKSPACE_URL}archives/{CHANNEL}/p{(await slack.card_ts(esc.id)).replace('.', '')}"
    assert notes(slack) == [f"Escalated to Mobile SDK experts. <{card_url}|See the question>"]

    # The same event again, the emoji taken off and put back, another person's emoji: one question.
    await react(slack, "U0SAM", event_id="EvSOS1", retry=1)
    await react(slack, "U0SAM", event_id="EvSOS2")
    fake.clear()
    await react(slack, "U0ADA", event_id="EvSOS3")
    assert [e.id for e in await all_escalations(slack)] == [esc.id]
    [told] = fake.of("chat.postEphemeral", user="U0ADA")
    assert f"already escalated to *Mobile SDK* as `#{esc.short_id()}`" in told.args["text"]
    assert fake.of("chat.postEphemeral", user="U0SAM") == []  # its own requester is not told again
    await slack.settle()
    assert len(notes(slack)) == 0  # nothing new in the customer thread

    # Resolved with an answer: the customer conversation sees it where it started.
    values = {"answer": {"value": {"type": "plain_text_input", "value": "Fixed in 4.2.1 <!here>"}}}
    reply = await slack.submit("resolve_modal", values, user="U0BEN", private_metadata=json.dumps({"e": esc.id}))
    assert reply.status == 200
    await slack.settle()
    assert (await slack.escalation(esc.id)).status == Status.resolved
    [answer] = notes(slack)
    assert answer == f"Answered by u0ben: Fixed in 4.2.1 &lt;!here&gt; <{card_url}|See the question>"


async def test_a_reply_in_a_thread_is_escalated_and_noted_in_that_thread(slack: SlackHarness) -> None:
    await react(slack, "U0SAM", ts="1772440000.000200")
    esc = await slack.only_escalation()
    assert esc.question == "Also on tablets" and esc.source_thread == ASKED
    await slack.settle()
    [note] = notes(slack, ASKED)  # Slack threads under the parent, never under a reply
    assert note.startswith("Escalated to Mobile SDK experts.")


async def test_emoji_map_is_scoped_by_channel(slack: SlackHarness) -> None:
    slack.fake.messages[ELSEWHERE] = [{"ts": ASKED, "user": "U0DANA", "text": "Refund twice?"}]
    await react(slack, "U0SAM", "moneybag", channel=ELSEWHERE)  # :moneybag: means billing in SUPPORT only
    assert await all_escalations(slack) == []
    await react(slack, "U0SAM", "moneybag")
    [esc] = await all_escalations(slack)
    assert esc.community.key == "billing"
    await react(slack, "U0SAM", "sos", channel=ELSEWHERE)  # :sos: works in every channel the bot is in
    assert sorted(e.community.key for e in await all_escalations(slack)) == ["billing", "sdk"]
    # The same message for a second community is a second question (one per community).
    await react(slack, "U0SAM", "sos")
    assert sorted(e.community.key for e in await all_escalations(slack)) == ["billing", "sdk", "sdk"]


async def test_who_may_not_escalate_changes_nothing(slack: SlackHarness) -> None:
    fake = slack.fake
    fake.users["U0HOOK"] = {"id": "U0HOOK", "team_id": "T0ACME", "is_bot": True, "name": "hook"}
    fake.users["U0GUEST"] = {"id": "U0GUEST", "team_id": "T0CUSTOMER", "name": "guest"}
    for who in ("U0HOOK", "U0GUEST", "U0BOT"):
        await react(slack, who)
    await react(slack, "U0SAM", "eyes")  # a claim emoji on a message that is no card
    assert await all_escalations(slack) == []
    await slack.settle()
    assert fake.posts() == [] and fake.of("chat.postEphemeral") == []


async def test_the_bots_own_messages_are_not_escalated(slack: SlackHarness) -> None:
    await slack.command("sdk How do I pin certificates?")
    await slack.settle()
    esc = await slack.only_escalation()
    await react(slack, "U0SAM", channel=CHANNEL, ts=await slack.card_ts(esc.id))
    assert [e.id for e in await all_escalations(slack)] == [esc.id]


async def test_similar_answers_are_shown_first_and_the_note_waits_for_the_card(slack: SlackHarness) -> None:
    await answered(slack, "App crashes on login after upgrading to 4.2", "Clear the keychain entry.")
    slack.fake.clear()
    await react(slack, "U0SAM")
    [esc] = [e for e in await all_escalations(slack) if e.status == Status.open]
    assert esc.held
    [told] = slack.fake.of("chat.postEphemeral", user="U0SAM")
    assert "sent you their answers in a DM" in told.args["text"]
    await slack.settle()
    assert "Clear the keychain entry." in dump(slack.fake.posts("U0SAM")[0].args)
    assert notes(slack) == [] and slack.fake.posts(CHANNEL) == []
    await slack.wait(minutes=11)  # nobody said it answered it: it goes to the experts
    assert len(slack.fake.posts(CHANNEL, thread=False)) == 1
    [note] = notes(slack)
    assert note.startswith("Escalated to Mobile SDK experts.")


async def test_a_note_that_cannot_be_posted_is_told_to_the_requester(slack: SlackHarness) -> None:
    await react(slack, "U0SAM")
    await slack.settle()
    esc = await slack.only_escalation()
    slack.fake.clear()
    slack.fake.fail("chat.postMessage", "not_in_channel")  # the bot was removed from the support channel
    values = {"answer": {"value": {"type": "plain_text_input", "value": "Fixed in 4.2.1"}}}
    reply = await slack.submit("resolve_modal", values, user="U0SAM", private_metadata=json.dumps({"e": esc.id}))
    assert reply.status == 200
    await slack.settle()
    assert notes(slack) == []
    [told] = slack.fake.posts("U0SAM")
    assert (
        "I could not post what became of your question in the thread of the message it was escalated from, "
        "on Slack; the question itself is fine." in told.args["text"]
    )
    assert "could not be posted in the Mobile SDK channel" not in dump(told.args)


async def test_two_people_reacting_at_once_make_one_question(slack: SlackHarness) -> None:
    await asyncio.gather(*(react(slack, who) for who in ("U0SAM", "U0ADA", "U0BEN")))
    [esc] = await all_escalations(slack)
    await slack.settle()
    assert len(slack.fake.posts(CHANNEL, thread=False)) == 1 and len(notes(slack)) == 1
    # Whoever came second is told it is already escalated; nobody is told twice.
    told = [c.args["user"] for c in slack.fake.of("chat.postEphemeral")]
    assert sorted(told) == ["U0ADA", "U0BEN", "U0SAM"]
    assert esc.requester.id in told
