"""Slack's escaping rule over every message the bot can send: outside our own mentions, links
and dates, no raw ``<`` or ``>`` and no ``&`` that does not start an entity; and nothing that
pings a crowd. Checked on what reaches the fake Web API and on the listeners' own answers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from storage import Store
from workflows.clock import FakeClock
from workflows.commands import Open
from workflows.decide import decide
from workflows.delivery import DeliveryContext
from workflows.effects import (
    Action,
    CardView,
    DigestItem,
    Notice,
    Notify,
    PostCard,
    PostDigest,
    Suggestion,
    ThreadReply,
    UpdateCard,
)
from workflows.model import ChannelRef, MessageRef, PersonRef, Platform

from .conftest import CHANNEL, CONFIG, Reply, SlackHarness, make_harness, payload
from .fake_slack import FakeSlack

EVIL = "<script>alert(1)</script> a & b <!channel> <!here> <!everyone> <@U0EVIL> <https://x.test|click>"
NAME = "Mobile <SDK> & Co"
RULE_CONFIG = CONFIG.replace("name: Mobile SDK", f'name: "{NAME}"')

# Our own sequences, as Slack reads them; whatever else is in angle brackets is a mistake.
_OURS = re.compile(r"<@[UW][A-Z0-9]+>|<#[CGD][A-Z0-9]+>|<!date\^[^<>]*>|<https?://[^<>|\s]+(?:\|[^<>]*)?>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def broken(text: str) -> list[str]:
    """What in ``text`` breaks Slack's rule (empty when it is right)."""
    problems = [ping for ping in ("<!channel>", "<!here>", "<!everyone>") if ping in text]
    rest = _ENTITY.sub("", _OURS.sub("", text))
    problems += [f"raw {ch!r}" for ch in "<>&" if ch in rest]
    return problems


def slack_texts(message: Any) -> list[str]:
    """Every text Slack reads as markup in a message, a view or an answer: the message's
    ``text`` and every mrkdwn object. (plain_text objects are shown as typed: not markup.)"""
    out: list[str] = []
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        out.append(message["text"])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if isinstance(message, dict):
        walk(message.get("blocks"))
        walk(message.get("view"))
    return out


def test_the_checker_knows_the_rule() -> None:
    assert (
        broken("<@U0ADA> see <#C0SDK0001> at <!date^1^{time}|09:00> <https://a.test/x?a=1&amp;b|doc> &lt;b&gt;") == []
    )
    assert broken("`/escalate <community> <question>`") == ["raw '<'", "raw '>'"]
    assert broken("a & b") == ["raw '&'"]
    assert "<!channel>" in broken("hey <!channel>")
    assert broken("&lt;!channel&gt; a &amp; b <@U0ADA>") == []


class Seen:
    """Every message Slack was sent (Web API calls, response_url posts) and every answer a
    listener gave in its HTTP response."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.answers: list[tuple[str, Any]] = []

    def answer(self, what: str, reply: Reply) -> Reply:
        assert reply.status == 200, (what, reply.text)
        if reply.text:
            self.answers.append((what, reply.json()))
        return reply

    def messages(self) -> list[tuple[str, Any]]:
        sent = [(c.method, c.args) for c in self.fake.calls if c.status == 200]
        return [*sent, *self.answers]

    def problems(self) -> list[tuple[str, str, list[str]]]:
        return [
            (what, text, found)
            for what, message in self.messages()
            for text in slack_texts(message)
            if (found := broken(text))
        ]


@pytest.fixture
async def rule_slack(store: Store, clock: FakeClock, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness, client = await make_harness(store, clock, fake_slack, config=RULE_CONFIG)
    try:
        yield harness
    finally:
        await client.close()


def _field(kind: str, value: str) -> dict[str, Any]:
    if kind == "static_select":
        return {"value": {"type": kind, "selected_option": {"value": value}}}
    return {"value": {"type": kind, "value": value}}


async def test_every_answer_view_and_message_of_a_whole_story_obeys_the_rule(rule_slack: SlackHarness) -> None:
    slack = rule_slack
    seen = Seen(slack.fake)
    # What a person asks for before any question exists.
    help_reply = seen.answer("help", await slack.command("help"))
    assert "`/escalate &lt;community&gt; &lt;question&gt;`" in help_reply.json()["text"]
    seen.answer("search alone", await slack.command("search"))
    seen.answer("search nothing", await slack.command("search zebra"))
    seen.answer("status empty", await slack.command("status"))
    seen.answer("whoami", await slack.command("whoami"))
    seen.answer("unknown community", await slack.command(f"nosuch{EVIL}"))
    seen.answer("form", await slack.command("sdk"))
    seen.answer(
        "shortcut", await slack.interactive(payload("message_shortcut", response_url=slack.fake.response_url()))
    )

    # A question with everything nasty in it, through its whole life.
    seen.answer("open", await slack.command(f"sdk {EVIL} why?"))
    await slack.settle()
    esc = await slack.only_escalation()
    ts = await slack.card_ts(esc.id)
    card = slack.fake.posts(CHANNEL, thread=False)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; a &amp; b &lt;!channel&gt;" in card.dump()
    assert card.args["text"].startswith("Mobile &lt;SDK&gt; &amp; Co: ")
    seen.answer(
        "refused assign",
        await slack.action(
            {"action_id": "assign", "type": "users_select", "block_id": f"esc:{esc.id}:{esc.version}:actions"}
            | {"selected_user": "U0BEN"},
            user="U0RANDOM",
            message_ts=ts,
            response="rando",
        ),
    )
    seen.answer(
        "refused reaction",
        await slack.event("reaction_added", user="U0RANDOM", reaction="white_check_mark", channel=CHANNEL, ts=ts),
    )
    await slack.wait(minutes=30)  # the nudge
    await slack.wait(minutes=90)  # assigned: a DM with Accept / Decline / Reassign
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None
    first = esc.owner.person.id
    dm = slack.fake.posts(first)[-1]
    seen.answer(
        "decline",
        await slack.action(
            {"action_id": "decline", "value": slack.value(esc)},
            user=first,
            channel="D" + first[1:],
            blocks=dm.args["blocks"],
            response="declined",
        ),
    )
    await slack.settle()
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None
    second = esc.owner.person.id
    dm = slack.fake.posts(second)[-1]
    seen.answer(
        "reassign",
        await slack.action(
            {"action_id": "reassign_to", "type": "users_select", "value": slack.value(esc)}
            | {"selected_user": "U0CHEN" if second != "U0CHEN" else "U0ADA"},
            user=second,
            channel="D" + second[1:],
            blocks=dm.args["blocks"],
            response="reassigned",
        ),
    )
    await slack.settle()
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None
    third = esc.owner.person.id
    seen.answer(
        "accept", await slack.action({"action_id": "accept", "value": slack.value(esc)}, user=third, channel="D0X")
    )
    await slack.settle()
    await slack.event(
        "message_in_thread", user=third, text=f"reply {EVIL}", ts="1772450000.000100", thread_ts=ts, channel=CHANNEL
    )
    await slack.settle()
    esc = await slack.escalation(esc.id)
    seen.answer(
        "show",
        await slack.action({"action_id": "show_question", "value": slack.value(esc)}, user="U0ADA", message_ts=ts),
    )
    seen.answer("resolve form", await slack.action({"action_id": "resolve", "value": slack.value(esc)}, user=third))
    seen.answer(
        "resolve",
        await slack.submit(
            "resolve_modal",
            {"answer": _field("plain_text_input", f"answer {EVIL}")},
            user=third,
            private_metadata=json.dumps({"e": esc.id, "v": esc.version}),
        ),
    )
    await slack.settle()
    esc = await slack.escalation(esc.id)
    seen.answer("reopen", await slack.action({"action_id": "reopen", "value": slack.value(esc)}, user="U0SAM"))
    await slack.settle()
    esc = await slack.escalation(esc.id)
    seen.answer(
        "already",
        await slack.submit(
            "resolve_modal",
            {"answer": _field("plain_text_input", f"again {EVIL}")},
            user="U0ADA",
            private_metadata=json.dumps({"e": esc.id}),
        ),
    )
    await slack.settle()

    # A second question from the form; it is held while Sam reads the earlier answer.
    values = {
        "community": _field("static_select", "sdk"),
        "question": _field("plain_text_input", f"{EVIL} why?"),
        "priority": _field("static_select", "urgent"),
        "customer": _field("plain_text_input", EVIL),
        "link": _field("plain_text_input", "https://ticket.test/1?a=1&b=<2>"),
    }
    seen.answer("form submitted", await slack.submit("escalate_modal", values, user="U0SAM"))
    await slack.settle()
    seen.answer("search hits", await slack.command("search alert script"))
    seen.answer("status", await slack.command("status"))
    await slack.event("app_home_opened", user="U0SAM")
    await slack.event("app_home_opened", user="U0ADA")
    await slack.runtime.digest()
    await slack.wait(days=3)  # reminders, releases, auto-closes, whatever is due
    await slack.runtime.digest()
    await slack.settle()

    methods = {method for method, _ in seen.messages()}
    assert {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish"} <= methods
    assert {"response_url:rando", "response_url:declined"} <= methods
    kinds = {(args.get("metadata") or {}).get("event_type") for _, args in seen.messages() if isinstance(args, dict)}
    assert {"escalation_card", "escalation_message", "escalation_digest"} <= kinds
    assert seen.problems() == []


# ---------------------------------------------------------------- every effect the sender renders

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME", name="Sam & <co>")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def evil_view(slack: SlackHarness) -> CardView:
    opened = decide(
        None,
        Open(
            id="o",
            escalation_id="e1",
            actor=SAM,
            tenant="slack:T0ACME",
            community_key="sdk",
            question=EVIL,
            customer=EVIL,
            link="https://ticket.test/?a=1&b=2",
            community=slack.runtime.service.directory.get("sdk"),
        ),
        NOW,
    )
    view = next(e for e in opened.effects if isinstance(e, PostCard)).view
    return view.model_copy(update={"answer": EVIL, "status_line": f"waiting {EVIL}", "actions": tuple(Action)})


async def test_every_effect_the_sender_renders_obeys_the_rule(rule_slack: SlackHarness) -> None:
    slack = rule_slack
    seen = Seen(slack.fake)
    view = evil_view(slack)
    channel = ChannelRef(platform=Platform.slack, id=CHANNEL, tenant="T0ACME")
    card = MessageRef(platform=Platform.slack, channel=CHANNEL, id="1772442000.000001", tenant="T0ACME")
    context = DeliveryContext("e1", [("card", card, None)], "rule")
    earlier = Suggestion(escalation_id="e0", community_key="sdk", question=EVIL, answer=EVIL, card=card)
    effects: list[Any] = [
        PostCard(escalation_id="e1", channel=channel, view=view),
        UpdateCard(escalation_id="e1", channel=channel, view=view),
    ]
    for notice in Notice:
        effects.append(
            ThreadReply(escalation_id="e1", channel=channel, notice=notice, text=f"{notice} {EVIL}", mentions=(SAM,))
        )
        effects.append(
            Notify(
                escalation_id="e1",
                person=SAM,
                notice=notice,
                text=f"{notice} {EVIL}",
                view=view,
                actions=tuple(Action),
                suggestions=(earlier,),
            )
        )
    item = DigestItem(escalation_id="e1", question=EVIL, requester=SAM, age="2h", note=EVIL, claimable=True)
    for empty in (False, True):
        groups = {} if empty else {"unanswered": (item,), "overdue": (item,), "waiting": (item,), "resolved": (item,)}
        effects.append(
            PostDigest(
                escalation_id=f"digest:sdk:{empty}",
                channel=channel,
                community_key="sdk",
                community_name=NAME,
                day=date(2026, 3, 2),
                week=f"This week {EVIL}",
                empty=empty,
                **groups,
            )
        )
    for effect in effects:
        await slack.platform.sender.deliver(effect, context)
    await slack.platform.home.flush()
    assert len(slack.fake.posts()) + len(slack.fake.of("chat.update")) >= len(effects)
    assert seen.problems() == []
