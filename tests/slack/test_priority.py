"""Priority changes the clock, end to end on Slack: the card's overflow menu raises a question to
urgent, its timers move to urgent's clock, and the urgent nudge mentions the lead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.config import parse_config
from storage import Store
from workflows.clock import FakeClock
from workflows.model import Priority, Step

from . import conftest
from .conftest import CHANNEL, SlackHarness, make_harness
from .fake_slack import FakeSlack

URGENT = "      priority: {urgent: {nudge_after: 5m, assign_after: 15m, mention_lead: true}}\n"


@pytest.fixture
async def slack(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    config = conftest.CONFIG.replace(
        "      resolve_reactions: [white_check_mark]\n", "      resolve_reactions: [white_check_mark]\n" + URGENT
    )
    assert parse_config(config).get("sdk") is not None
    harness, client = await make_harness(store, clock, fake_slack, config=config)
    try:
        yield harness
    finally:
        await client.close()


def _overflow_values(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        option["text"]["text"]
        for block in blocks
        for element in block.get("elements", [])
        if element.get("type") == "overflow"
        for option in element["options"]
    ]


async def test_raising_to_urgent_moves_the_clock_and_the_nudge_mentions_the_lead(slack: SlackHarness) -> None:
    reply = await slack.command("sdk Production is down for every customer")
    assert reply.status == 200, reply.text
    await slack.settle()
    esc = await slack.only_escalation()
    assert (esc.next_step, esc.next_due_at) == (Step.nudge, esc.created_at + timedelta(minutes=30))
    [card] = slack.fake.of("chat.postMessage", channel=CHANNEL)
    assert {"Make it urgent", "Make it high", "Make it low"} <= set(_overflow_values(card.args["blocks"]))

    await slack.wait(minutes=2)
    slack.fake.clear()
    more = {"action_id": "more", "type": "overflow", "selected_option": {"value": slack.value(esc, "priority:urgent")}}
    assert (await slack.action(more, user="U0SAM")).status == 200
    await slack.settle()
    esc = await slack.escalation(esc.id)
    assert esc.priority == Priority.urgent
    assert (esc.next_step, esc.next_due_at) == (Step.nudge, esc.created_at + timedelta(minutes=5))
    [update] = slack.fake.of("chat.update")
    assert "Make it urgent" not in _overflow_values(update.args["blocks"])
    assert ":red_circle: urgent" in str(update.args["blocks"])

    await slack.wait(minutes=4)  # 6 minutes in: the urgent nudge, with the lead
    [nudge] = slack.fake.posts(CHANNEL, thread=True)
    assert "<@U0LEE>" in nudge.args["text"] and "<@U0ADA>" in nudge.args["text"]
    await slack.wait(minutes=10)  # 16 minutes in: assigned
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.kind.value == "assigned"
