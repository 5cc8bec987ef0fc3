"""Routing by expertise on Slack, over signed HTTP against the fake Web API: a question like
ones Chen answered is assigned to Chen, who is told why; the card shows who answered similar
questions (escaped, linked to the latest one's thread), whatever the rotation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage import Store
from workflows.clock import FakeClock

from . import conftest
from .conftest import CHANNEL, SlackHarness, make_harness
from .fake_slack import FakeSlack
from .test_knowledge import PINGS, answered, card_url, newest_open

POLICY = "      resolve_reactions: [white_check_mark]\n"
# Similar questions must reach the channel at once here, not wait on the requester.
EXPERTISE = conftest.CONFIG.replace(POLICY, POLICY + "      deflection_wait: off\n").replace(
    '    lead: "slack:U0LEE"\n', '    lead: "slack:U0LEE"\n    rotation: expertise\n', 1
)
ROUND_ROBIN = conftest.CONFIG.replace(POLICY, POLICY + "      deflection_wait: off\n")


async def _harness(store: Store, clock: FakeClock, fake: FakeSlack, config: str) -> AsyncIterator[SlackHarness]:
    harness, client = await make_harness(store, clock, fake, config=config)
    try:
        yield harness
    finally:
        await client.close()


@pytest.fixture
async def slack(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    async for harness in _harness(store, clock, fake_slack, EXPERTISE):
        yield harness


@pytest.fixture
async def round_robin(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    async for harness in _harness(store, clock, fake_slack, ROUND_ROBIN):
        yield harness


async def _history(slack: SlackHarness) -> str:
    """Chen answered two push-token questions (the latest with text that must not ping);
    Ben one about crashes. Returns the latest push-token question's card URL."""
    await answered(slack, "Push token is empty after reinstall on iOS", "Call register again.", by="U0CHEN")
    slack.clock.advance(timedelta(days=1))
    latest = await answered(slack, "Push token not refreshed <!channel> & co", "Refresh on app start.", by="U0CHEN")
    await answered(slack, "Crash on login with SSO enabled", "Upgrade to 4.2.", by="U0BEN")
    return await card_url(slack, latest)


async def test_the_question_goes_to_who_answered_similar_ones_and_everyone_is_told_why(slack: SlackHarness) -> None:
    latest_url = await _history(slack)
    slack.fake.clear()
    assert (await slack.command("sdk Android push token is not refreshed after update")).status == 200
    await slack.settle()
    esc = await newest_open(slack)
    [card] = slack.fake.posts(CHANNEL, thread=False)
    hint = next(b for b in card.args["blocks"] if b["block_id"].endswith(":likely"))
    text = hint["elements"][0]["text"]
    assert text.startswith(
        "Answered similar questions: Chen 2 (latest: <"
        + latest_url
        + "|“Push token not refreshed &lt;!channel&gt; &amp; co”>)"
    )
    for ping in PINGS:
        assert ping not in json.dumps(card.args)

    await slack.wait(hours=2, minutes=1)  # past assign_after: round robin would pick Ada
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.expert == "slack:U0CHEN"
    [dm] = slack.fake.posts("U0CHEN")
    why = "Chen answered 2 similar questions, latest: “Push token not refreshed &lt;!channel&gt; &amp; co”"
    assert f"It comes to you because {why}." in json.dumps(dm.args["blocks"], ensure_ascii=False)
    assert latest_url in json.dumps(dm.args["blocks"])  # the evidence, linked
    async with slack.runtime.store.unit_of_work() as uow:
        [audit] = [a for a in await uow.audit.for_escalation(esc.id) if a.action == "auto_assigned"]
    assert audit.detail is not None
    assert audit.detail["because"].startswith("Chen answered 2 similar questions")
    assert audit.detail["expertise"]["answered"] == 2


async def test_round_robin_cards_show_who_answered_similar_questions_too(round_robin: SlackHarness) -> None:
    slack = round_robin
    await _history(slack)
    slack.fake.clear()
    assert (await slack.command("sdk Crash on login after SSO change")).status == 200
    await slack.settle()
    [card] = slack.fake.posts(CHANNEL, thread=False)
    hint = next(b for b in card.args["blocks"] if b["block_id"].endswith(":likely"))
    assert hint["elements"][0]["text"].startswith("Answered similar questions: Ben 1 (latest: <")
    esc = await newest_open(slack)
    await slack.wait(hours=2, minutes=1)
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.expert == "slack:U0ADA"  # the rotation itself is unchanged
