"""Issue 27 in Slack: every kind of message in a card's thread is a reply or deliberately
nothing (docs/slack.md has the table), over signed HTTP with the platform's payload shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflows.model import Ball, Escalation, Status

from .conftest import CHANNEL, SlackHarness
from .test_acceptance import opened, outbox_count

CRASH_LOG = "https://acme.slack.com/files/U0ADA/F0CRASHLOG/crash.log"
SCREENSHOT = "https://acme.slack.com/files/U0ADA/F0SCREEN01/screenshot_2026-03-02_at_10.14.png"
REPLY_TS = "1772450000.000100"


def dump(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


async def in_thread(slack: SlackHarness, kind: str, thread_ts: str, *, user: str = "U0ADA", text: str = "") -> None:
    reply = await slack.event(kind, user=user, text=text, ts=REPLY_TS, thread_ts=thread_ts, channel=CHANNEL)
    assert reply.status == 200, reply.text


async def test_an_answer_with_files_is_a_reply_the_requester_hears_of(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    slack.fake.clear()
    await in_thread(slack, "message_file_share", ts, text="The trace says the keystore is locked.")

    answered = await slack.escalation(esc.id)
    assert answered.replies == 1
    assert answered.first_responder is not None and answered.first_responder.id == "U0ADA"
    assert answered.first_response_pull is True and answered.ball == Ball.requester
    assert [(f.name, f.url) for f in answered.files] == [
        ("crash.log", CRASH_LOG),
        ("Screenshot 2026-03-02 at 10.14.png", SCREENSHOT),
    ]
    await slack.settle()
    [dm] = slack.fake.posts("U0SAM")
    text = dump(dm.args)
    assert "<@U0ADA> replied to your question: The trace says the keystore is locked." in text
    assert "With 2 files: crash.log, Screenshot 2026-03-02 at 10.14.png" in text
    assert f"<{CRASH_LOG}|crash.log>" in text and f"<{SCREENSHOT}|Screenshot 2026-03-02 at 10.14.png>" in text
    # An answer is an answer: no nudge half an hour later, no assignment hours later.
    slack.fake.clear()
    await slack.wait(minutes=45)
    assert slack.fake.posts(CHANNEL, thread=True) == []
    assert (await slack.escalation(esc.id)).first_push_at is None
    await slack.wait(hours=3)  # past assign_after (2h): nobody is assigned an answered question
    later = await slack.escalation(esc.id)
    assert later.owner is None and later.first_push_at is None and later.assignments == 0


async def test_files_without_text_are_said_by_name(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    slack.fake.clear()
    await in_thread(slack, "message_file_share", ts, text="")
    await slack.settle()
    [dm] = slack.fake.posts("U0SAM")
    assert "<@U0ADA> replied to your question with 2 files: crash.log, Screenshot" in dump(dm.args)


async def test_the_answer_keeps_its_files_in_the_card_the_knowledge_base_and_the_digest(
    slack: SlackHarness,
) -> None:
    esc = await opened(slack, "sdk Why does signing fail with a locked keystore?")
    ts = await slack.card_ts(esc.id)
    await in_thread(slack, "message_file_share", ts, text="See the trace.")
    await slack.settle()
    slack.fake.clear()
    values = {"answer": {"value": {"type": "plain_text_input", "value": "Unlock the keystore before signing."}}}
    reply = await slack.submit("resolve_modal", values, user="U0ADA", private_metadata=json.dumps({"e": esc.id}))
    assert reply.status == 200, reply.text
    resolved = await slack.escalation(esc.id)
    assert resolved.status == Status.resolved and len(resolved.files) == 2
    await slack.settle()
    card = dump(slack.fake.of("chat.update")[-1].args)
    assert "Unlock the keystore before signing." in card and f"<{CRASH_LOG}|crash.log>" in card
    [told] = slack.fake.posts("U0SAM")
    assert "With 2 files: crash.log" in dump(told.args) and f"<{SCREENSHOT}|" in dump(told.args)

    found = await slack.command("search keystore signing")
    assert f"<{CRASH_LOG}|crash.log>" in dump(found.json())

    await slack.wait(minutes=5)
    slack.fake.clear()
    assert await slack.runtime.digest() == 1  # sdk; billing has nothing to say
    await slack.settle()
    [digest] = [c for c in slack.fake.posts(CHANNEL) if "Daily digest" in dump(c.args)]
    assert "answered by Ada, with 2 files: crash.log, Screenshot 2026-03-02 at 10.14.png" in dump(digest.args)


async def test_the_requesters_own_files_are_a_reply_but_not_the_answer(slack: SlackHarness) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    await in_thread(slack, "message_in_thread", ts, text="Which SDK version?")
    reply = await slack.event(
        "message_file_share", user="U0SAM", text="", ts="1772450000.000200", thread_ts=ts, channel=CHANNEL
    )
    assert reply.status == 200
    after = await slack.escalation(esc.id)
    assert after.replies == 2 and after.ball == Ball.experts and after.files == ()


# What each kind of thread message does (docs/slack.md), from the docs' example payloads.
REPLIES = {
    "message_in_thread": ("Looking.", ()),
    "message_thread_broadcast": ("Rotate the key; posting this to the channel too.", ()),
    "message_me_message": ("is reproducing it on a Pixel 8", ()),
    "message_file_share": ("", ("crash.log", "Screenshot 2026-03-02 at 10.14.png")),
    "message_canvas_share": ("Runbook here.", ("Key rotation runbook",)),
    # A file the app may not see (Slack Connect): still a reply, the file said without a link.
    "message_file_share_hidden": ("From our side:", ("a file",)),
}
IGNORED = (
    "message_changed_in_thread",
    "message_deleted",
    "message_replied",
    "bot_message_in_thread",
    "message_app_as_user",
    "message_channel_join",
    "message_huddle_thread",
)


@pytest.mark.parametrize("kind", list(REPLIES))
async def test_a_persons_message_of_each_kind_is_a_reply(slack: SlackHarness, kind: str) -> None:
    text, names = REPLIES[kind]
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    slack.fake.clear()
    await in_thread(slack, kind, ts, text=text)
    after = await slack.escalation(esc.id)
    assert after.replies == 1 and after.first_response_at is not None, kind
    assert tuple(f.name for f in after.files) == names
    await slack.settle()
    [dm] = slack.fake.posts("U0SAM")
    assert "<@U0ADA> replied to your question" in dump(dm.args)
    if text:
        assert text in dump(dm.args)


@pytest.mark.parametrize("kind", IGNORED)
async def test_notices_edits_deletions_and_apps_change_nothing(slack: SlackHarness, kind: str) -> None:
    esc = await opened(slack)
    ts = await slack.card_ts(esc.id)
    before = await outbox_count(slack)
    await in_thread(slack, kind, ts, text="edited words")
    after: Escalation = await slack.escalation(esc.id)
    assert (after.version, after.replies, after.first_response_at) == (esc.version, 0, None), kind
    assert await outbox_count(slack) == before
