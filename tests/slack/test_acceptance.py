"""Issue 3's acceptance points, each over real HTTP against the fake Slack Web API."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from storage.tables import OutboxRow
from workflows.model import Status

from .conftest import CHANNEL, SlackHarness, make_harness
from .fake_slack import FakeSlack


def block_texts(args: dict[str, Any]) -> list[str]:
    """Every text object's text in a call's blocks or view."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(args.get("blocks"))
    walk(args.get("view"))
    return out


async def outbox_count(slack: SlackHarness) -> int:
    async with slack.runtime.store.unit_of_work() as uow:
        return int((await uow.session.execute(select(func.count()).select_from(OutboxRow))).scalar_one())


async def opened(slack: SlackHarness, text: str = "sdk Why does the build fail on arm64?") -> Any:
    reply = await slack.command(text)
    assert reply.status == 200, reply.text
    await slack.settle()
    return await slack.only_escalation()


async def test_duplicate_event_has_one_effect(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    slack.fake.clear()
    first = await slack.event(
        "reaction_added", event_id="Ev0DUPLICATE", user="U0ADA", reaction="eyes", channel=CHANNEL, ts=ts
    )
    # Slack redelivers the same event (it thinks we timed out).
    again = await slack.event(
        "reaction_added", event_id="Ev0DUPLICATE", retry=1, user="U0ADA", reaction="eyes", channel=CHANNEL, ts=ts
    )
    assert first.status == again.status == 200
    claimed = await slack.escalation(esc.id)
    assert claimed.version == esc.version + 1
    assert claimed.owner is not None and claimed.owner.person.id == "U0ADA"
    await slack.settle()
    assert len(slack.fake.of("chat.update")) == 1
    assert len(slack.fake.posts("U0SAM")) == 1  # "Ada is looking at your question", once
    # The same for a thread reply delivered twice.
    for retry in (None, 1, 2):
        await slack.event(
            "message_in_thread",
            event_id="Ev0REPLY",
            retry=retry,
            user="U0ADA",
            text="Looking.",
            ts="1772450000.000100",
            thread_ts=ts,
            channel=CHANNEL,
        )
    assert (await slack.escalation(esc.id)).replies == 1


async def test_non_expert_pressing_assign_is_refused_privately(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    before = await outbox_count(slack)
    slack.fake.clear()
    reply = await slack.action(
        {
            "action_id": "assign",
            "type": "users_select",
            "block_id": f"esc:{esc.id}:{esc.version}:actions",
            "selected_user": "U0BEN",
        },
        user="U0RANDOM",
        message_ts=ts,
        response="rando",
    )
    assert reply.status == 200
    [refusal] = slack.fake.of("response_url:rando")
    assert refusal.args["response_type"] == "ephemeral"
    assert refusal.args["replace_original"] is False
    assert "Only the requester, the owner or the Mobile SDK experts can assign" in refusal.args["text"]
    after = await slack.escalation(esc.id)
    assert after.version == esc.version and after.owner is None
    assert await outbox_count(slack) == before
    await slack.settle()
    assert slack.fake.of("chat.update") == [] and slack.fake.posts() == []


async def test_an_expert_assigns_from_the_card(slack: SlackHarness) -> None:
    esc = await opened(slack)
    reply = await slack.action(
        {
            "action_id": "assign",
            "type": "users_select",
            "block_id": f"esc:{esc.id}:{esc.version}:actions",
            "selected_user": "U0CHEN",
        },
        user="U0ADA",
    )
    assert reply.status == 200
    after = await slack.escalation(esc.id)
    assert after.owner is not None and after.owner.person.id == "U0CHEN"
    await slack.settle()
    assert slack.fake.posts("U0CHEN")


async def test_mentions_in_user_text_never_ping(slack: SlackHarness) -> None:
    evil = "Help <!channel> <!here> <@U0EVIL> <!subteam^S123> & <https://x.test|click> *now*"
    reply = await slack.command(f"sdk {evil}")
    assert "<!channel>" not in reply.text
    await slack.settle()
    esc = await slack.only_escalation()
    ts = await slack.card_ts(esc.id)
    # Walk the whole story so every kind of message is sent: card, nudge, DMs, updates.
    await slack.wait(minutes=30)
    await slack.wait(minutes=90)
    await slack.event(
        "message_in_thread", user="U0ADA", text=f"reply {evil}", ts="1772450000.000100", thread_ts=ts, channel=CHANNEL
    )
    esc = await slack.escalation(esc.id)
    await slack.action({"action_id": "show_question", "value": slack.value(esc)}, user="U0ADA", message_ts=ts)
    await slack.submit(
        "resolve_modal",
        {"answer": {"value": {"type": "plain_text_input", "value": f"answer {evil}"}}},
        user="U0ADA",
        private_metadata=json.dumps({"e": esc.id, "v": esc.version}),
    )
    await slack.settle()
    await slack.event("app_home_opened", user="U0SAM")
    await slack.command("status")
    sent = [c for c in slack.fake.calls if c.method not in ("auth.test",)]
    kinds = {c.method for c in sent}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish"} <= kinds
    assert len(slack.fake.posts(CHANNEL, thread=True)) >= 1 and slack.fake.posts("U0SAM")
    for call in sent:
        dump = call.dump()
        for ping in ("<!channel>", "<!here>", "<@U0EVIL>", "<!subteam", "<https://x.test"):
            assert ping not in dump, (call.method, ping)
    card = slack.fake.posts(CHANNEL, thread=False)[0]
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U0EVIL&gt;" in card.dump()
    assert "&amp;" in card.dump()
    # Every mrkdwn text object is verbatim (no automatic linking of names).
    for call in sent:
        for node in _mrkdwn_nodes(call.args):
            assert node.get("verbatim") is True, call.method


def _mrkdwn_nodes(args: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                out.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(args)
    return out


async def test_rate_limited_card_is_delivered_after_retry_after(store: Any, clock: Any, fake_slack: FakeSlack) -> None:
    # In-process retry off: the outbox alone must honour Retry-After.
    slack, client = await make_harness(store, clock, fake_slack, inline_retry_max_wait=0)
    try:
        await slack.command("sdk Is the 429 handled?")
        fake_slack.rate_limit(1, retry_after=1, method="chat.postMessage")
        await slack.runtime.dispatch()
        assert [c.status for c in fake_slack.calls if c.method == "chat.postMessage"] == [429]
        assert fake_slack.posts(CHANNEL) == []
        await slack.runtime.dispatch()  # not yet: Retry-After has not passed
        assert fake_slack.posts(CHANNEL) == []
        await slack.wait(seconds=1)
        assert len(fake_slack.posts(CHANNEL)) == 1
        esc = await slack.only_escalation()
        assert await slack.card_ts(esc.id)
    finally:
        await client.close()


async def test_short_rate_limit_is_retried_by_the_sdk(slack: SlackHarness) -> None:
    await slack.command("sdk Is the short 429 handled?")
    slack.fake.rate_limit(1, retry_after=0, method="chat.postMessage")
    await slack.runtime.dispatch()
    assert [c.status for c in slack.fake.calls if c.method == "chat.postMessage"][:2] == [429, 200]
    assert len(slack.fake.posts(CHANNEL)) == 1


async def test_permanent_errors_are_kept_with_slacks_code(slack: SlackHarness) -> None:
    await slack.command("sdk Where does this go?")
    slack.fake.fail("chat.postMessage", "channel_not_found")
    await slack.runtime.dispatch()
    async with slack.runtime.store.unit_of_work() as uow:
        rows = await uow.outbox.list()
    assert rows[0].status == "failed" and "channel_not_found" in (rows[0].last_error or "")


async def test_server_errors_are_retried(slack: SlackHarness) -> None:
    await slack.command("sdk Is Slack down?")
    slack.fake.fail("chat.postMessage", "service_unavailable", status=503)
    await slack.runtime.dispatch()
    async with slack.runtime.store.unit_of_work() as uow:
        row, _confirmation = await uow.outbox.list()
    assert row.status == "pending" and row.attempts == 1 and "service_unavailable" in (row.last_error or "")
    await slack.wait(seconds=2)
    assert len(slack.fake.posts(CHANNEL)) == 1


async def test_a_card_that_could_not_be_posted_is_not_confirmed_to_the_requester(slack: SlackHarness) -> None:
    await slack.command("sdk Is the archive still read?")
    slack.fake.fail("chat.postMessage", "is_archived")
    await slack.settle()
    assert slack.fake.posts(CHANNEL) == []
    told = [json.dumps(call.args) for call in slack.fake.posts("U0SAM")]
    assert len(told) == 1 and "could not be posted" in told[0]  # told what happened, not that it is posted
    assert "Your question is posted" not in told[0]


async def test_forty_thousand_character_question(slack: SlackHarness) -> None:
    words = "The app crashes when <b> & keys rotate. "
    question = (words * (40_000 // len(words) + 1))[:40_000].strip()
    assert len(question) > 39_900
    reply = await slack.command(f"sdk {question}")
    assert reply.status == 200 and "Escalated" in reply.text
    esc = await slack.only_escalation()
    assert esc.question == question  # accepted whole
    await slack.settle()
    card = slack.fake.posts(CHANNEL, thread=False)[0]
    assert all(len(t) <= 3000 for t in block_texts(card.args))
    assert "truncated" in card.dump()
    assert len(card.args["text"]) <= 3000
    show = next(
        e
        for b in card.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "show_question"
    )
    slack.fake.clear()
    reply = await slack.action({"action_id": "show_question", "value": show["value"]}, user="U0ADA")
    assert reply.status == 200
    [shown] = slack.fake.of("views.open")
    sections = [b["text"]["text"] for b in shown.args["view"]["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    unescaped = "".join(sections).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == question  # the full text is reachable
    # Every later message stays within Slack's limits too.
    await slack.wait(hours=2)
    for call in slack.fake.calls:
        assert all(len(t) <= 3000 for t in block_texts(call.args)), call.method


async def test_unknown_community_opens_the_modal(slack: SlackHarness) -> None:
    reply = await slack.command("nosuch How do refunds work?")
    assert reply.status == 200
    [opened_view] = slack.fake.of("views.open")
    view = opened_view.args["view"]
    assert view["callback_id"] == "escalate_modal"
    dump = json.dumps(view)
    assert "nosuch How do refunds work?" in dump and "no community called" in dump
    options = next(b for b in view["blocks"] if b.get("block_id") == "community")["element"]["options"]
    assert {o["value"] for o in options} == {"sdk", "billing"}
    assert await slack.runtime.service.requested_by(_sam(), _scope()) == []


async def test_escalate_alone_opens_the_modal_and_validates_inline(slack: SlackHarness) -> None:
    reply = await slack.command("")
    assert reply.status == 200
    assert slack.fake.of("views.open")[0].args["view"]["callback_id"] == "escalate_modal"
    empty = {
        "community": {"value": {"type": "static_select", "selected_option": None}},
        "question": {"value": {"type": "plain_text_input", "value": "  "}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "link": {"value": {"type": "plain_text_input", "value": "javascript:alert(1)"}},
    }
    reply = await slack.submit("escalate_modal", empty, user="U0SAM")
    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"community", "question", "link"}
    good = {
        "community": {"value": {"type": "static_select", "selected_option": {"value": "billing"}}},
        "question": {"value": {"type": "plain_text_input", "value": "Why was ACME double charged?"}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "customer": {"value": {"type": "plain_text_input", "value": "ACME Corp"}},
        "link": {"value": {"type": "plain_text_input", "value": "https://tickets.example.com/42"}},
    }
    reply = await slack.submit("escalate_modal", good, user="U0SAM")
    assert reply.json()["response_action"] == "update"
    esc = await slack.only_escalation()
    assert esc.community.key == "billing" and esc.priority.value == "high" and esc.customer == "ACME Corp"
    await slack.settle()
    card = slack.fake.posts("C0BILL001")[0]
    assert "<https://tickets.example.com/42|" in card.dump() and "ACME Corp" in card.dump()


async def test_help_and_status(slack: SlackHarness) -> None:
    reply = await slack.command("help")
    assert reply.json()["response_type"] == "ephemeral"
    assert "/escalate status" in reply.json()["text"] and "`sdk`" in reply.json()["text"]
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    reply = await slack.command("status")
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    dump = json.dumps(body["blocks"])
    assert f"archives/{CHANNEL}/p{ts.replace('.', '')}" in dump
    assert "Unclaimed" in dump and "nudge the experts in 30m" in dump


async def test_message_shortcut_prefills_the_modal(slack: SlackHarness) -> None:
    from .conftest import payload

    reply = await slack.interactive(payload("message_shortcut", response_url=slack.fake.response_url("sc")))
    assert reply.status == 200
    [permalink] = slack.fake.of("chat.getPermalink")
    assert permalink.args["message_ts"] == "1772441000.000100"
    [opened_view] = slack.fake.of("views.open")
    view = opened_view.args["view"]
    question = next(b for b in view["blocks"] if b.get("block_id") == "question")["element"]["initial_value"]
    assert question.startswith("Customer says the SDK crashes on iOS 19 when keys rotate & status")
    link = next(b for b in view["blocks"] if b.get("block_id") == "link")["element"]["initial_value"]
    assert link.endswith("archives/C0SUPPORT1/p1772441000000100")
    # Submitting keeps the source message.
    values = {
        "community": {"value": {"type": "static_select", "selected_option": {"value": "sdk"}}},
        "question": {"value": {"type": "plain_text_input", "value": question}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "normal"}}},
        "link": {"value": {"type": "plain_text_input", "value": link}},
    }
    await slack.submit("escalate_modal", values, user="U0SAM", private_metadata=view["private_metadata"])
    esc = await slack.only_escalation()
    assert esc.source is not None and esc.source.id == "1772441000.000100" and esc.link == link


async def test_reactions_claim_and_resolve(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    # Not an expert: refused, privately, in the channel.
    await slack.event("reaction_added", user="U0RANDOM", reaction="eyes", channel=CHANNEL, ts=ts)
    [ephemeral] = slack.fake.of("chat.postEphemeral")
    assert ephemeral.args["user"] == "U0RANDOM" and "experts can claim" in ephemeral.args["text"]
    assert (await slack.escalation(esc.id)).owner is None
    # An expert's claim emoji (with a skin tone) claims; an unrelated emoji does nothing.
    await slack.event("reaction_added", user="U0CHEN", reaction="tada", channel=CHANNEL, ts=ts)
    await slack.event("reaction_added", user="U0CHEN", reaction="raising_hand::skin-tone-3", channel=CHANNEL, ts=ts)
    claimed = await slack.escalation(esc.id)
    assert claimed.owner is not None and claimed.owner.person.id == "U0CHEN" and claimed.version == esc.version + 1
    # A resolve emoji counts only from the owner or the requester: another expert is told so.
    await slack.event("reaction_added", user="U0BEN", reaction="white_check_mark", channel=CHANNEL, ts=ts)
    assert (await slack.escalation(esc.id)).status == Status.open
    assert "owner or the requester" in slack.fake.of("chat.postEphemeral")[-1].args["text"]
    await slack.event("reaction_added", user="U0CHEN", reaction="white_check_mark", channel=CHANNEL, ts=ts)
    assert (await slack.escalation(esc.id)).status == Status.resolved
    await slack.settle()
    assert "Resolved by <@U0CHEN>" in slack.fake.of("chat.update")[-1].dump()


async def test_reactions_and_replies_count_only_on_the_card(slack: SlackHarness) -> None:
    esc = await opened(slack)
    card_ts = await slack.card_ts(esc.id)
    await slack.wait(minutes=30)  # a nudge in the thread
    await slack.wait(minutes=90)  # assigned to Ada by DM
    [nudge] = await slack.runtime.service.messages(esc.id, _scope(), "thread")
    dms = await slack.runtime.service.messages(esc.id, _scope(), "dm")
    ada_dm = next(ref for ref in dms if ref.channel == "D0ADA")
    assert nudge.id != card_ts
    before = await slack.escalation(esc.id)
    # An emoji on the nudge or on the DM, and a reply threaded under the nudge's own ts, are not on the card.
    await slack.event("reaction_added", user="U0BEN", reaction="eyes", channel=CHANNEL, ts=nudge.id)
    await slack.event("reaction_added", user="U0ADA", reaction="eyes", channel=ada_dm.channel, ts=ada_dm.id)
    await slack.event(
        "message_in_thread", user="U0BEN", text="hi", ts="1772450000.000500", thread_ts=nudge.id, channel=CHANNEL
    )
    after = await slack.escalation(esc.id)
    assert after.version == before.version and after.replies == 0


async def test_card_buttons_claim_reassign_cancel_reopen(slack: SlackHarness) -> None:
    esc = await opened(slack)
    await slack.action({"action_id": "claim", "value": slack.value(esc)}, user="U0ADA")
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.person.id == "U0ADA"
    more = {"action_id": "more", "type": "overflow", "selected_option": {"value": slack.value(esc, "reassign")}}
    await slack.action(more, user="U0ADA")
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.person.id != "U0ADA"
    cancel = {"action_id": "more", "type": "overflow", "selected_option": {"value": slack.value(esc, "cancel")}}
    await slack.action(cancel, user="U0SAM")
    esc = await slack.escalation(esc.id)
    assert esc.status == Status.cancelled
    # A closed question: Resolve is refused privately, Reopen works.
    await slack.action({"action_id": "resolve", "value": slack.value(esc)}, user="U0ADA", response="late")
    assert "already cancelled" in slack.fake.of("response_url:late")[0].args["text"]
    await slack.action({"action_id": "reopen", "value": slack.value(esc)}, user="U0SAM")
    assert (await slack.escalation(esc.id)).status == Status.open


async def test_app_home(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    await slack.action({"action_id": "claim", "value": slack.value(esc)}, user="U0ADA")
    await slack.settle()
    slack.fake.clear()
    await slack.event("app_home_opened", user="U0ADA")
    [home] = slack.fake.of("views.publish", user_id="U0ADA")
    assert home.args["view"]["type"] == "home"
    dump = json.dumps(home.args["view"])
    assert "My escalations" in dump and "Assigned to me" in dump
    assigned_part = dump.split("Assigned to me", 1)[1]
    assert f"archives/{CHANNEL}/p{ts.replace('.', '')}" in assigned_part and "Claimed by" in assigned_part
    await slack.event("app_home_opened", user="U0SAM")
    sam_home = json.dumps(slack.fake.of("views.publish", user_id="U0SAM")[0].args["view"])
    mine = sam_home.split("Assigned to me", 1)[0]
    assert re.search(r"#" + esc.id[:8], mine)


def _sam() -> Any:
    from workflows.model import PersonRef, Platform

    return PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")


def _scope() -> Any:
    from workflows.ports import Scope

    return Scope("slack", "T0ACME")
