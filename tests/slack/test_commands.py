"""``/escalate`` words over signed HTTP: whoami, help, a mistake and an unknown community,
answered to the person alone and escaped by Slack's rules."""

from __future__ import annotations

import json
import re

from .conftest import SlackHarness

# What Slack reads as a mention, a link or a channel ping: nothing but escapes may remain.
RAW = re.compile(r"<(?!@U0|#C0)")


def slack_rule_ok(text: str) -> bool:
    return not RAW.search(text) and ">" not in re.sub(r"<[@#][UC]0[A-Z0-9]+>", "", text)


async def test_whoami_tells_the_person_alone_what_to_paste_in_the_configuration(slack: SlackHarness) -> None:
    reply = await slack.command("whoami", user="U0ADA", user_name="ada")
    body = reply.json()
    assert reply.status == 200 and body["response_type"] == "ephemeral"
    text = body["text"]
    assert "`slack:U0ADA`" in text  # as experts and lead take it
    assert "`slack: U0ADA`" in text  # under people
    assert "`slack: {channel: C0SUPPORT1}`" in text  # the channel it was asked in
    assert "You are an expert of sdk (Mobile SDK)." in text
    assert slack_rule_ok(text)
    # Nothing posted anywhere (Bolt's own auth.test aside): the answer is the ephemeral reply.
    assert [c.method for c in slack.fake.calls if c.method != "auth.test"] == []


async def test_whoami_says_who_is_not_in_the_configuration_yet(slack: SlackHarness) -> None:
    text = (await slack.command("WhoAmI", user="U0NEW")).json()["text"]
    assert "`slack:U0NEW`" in text and "not an expert or a lead of any community yet" in text


async def test_help_lists_every_form_escaped_and_the_communities(slack: SlackHarness) -> None:
    body = (await slack.command("help")).json()
    text = body["text"]
    assert body["response_type"] == "ephemeral"
    for form in (
        "/escalate &lt;community&gt; &lt;question&gt;",
        "/escalate search &lt;words&gt;",
        "/escalate status",
        "/escalate whoami",
        "/escalate help",
    ):
        assert f"`{form}`" in text
    assert "`sdk` (Mobile SDK)" in text and "`billing` (Billing)" in text
    assert slack_rule_ok(text)


async def test_search_without_words_says_how(slack: SlackHarness) -> None:
    body = (await slack.command("search")).json()
    assert body == {"text": "Say what to look for: `/escalate search &lt;words&gt;`", "response_type": "ephemeral"}


async def test_an_unknown_community_gets_the_form_with_the_communities(slack: SlackHarness) -> None:
    await slack.command("escalate nope Something")
    [opened] = slack.fake.of("views.open")
    view = opened.args["view"]
    assert "There is no community called “nope”. Pick one below." in json.dumps(view, ensure_ascii=False)
    options = next(b for b in view["blocks"] if b.get("block_id") == "community")["element"]["options"]
    assert [o["value"] for o in options] == ["sdk", "billing"]
    question = next(b for b in view["blocks"] if b.get("block_id") == "question")["element"]
    assert question["initial_value"] == "nope Something"
