"""Issue 27 on Teams: a thread reply with files, images or only a card is a reply the
requester hears of; edits, deletions and bots change nothing (docs/teams.md has the table).
Activities are shaped after the Teams docs' examples (tests/teams/payloads/README.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflows.model import Ball, Escalation, Status

from .conftest import ADA, EVE, SAM, Teams

CRASH_LOG = "https://contoso.sharepoint.com/sites/SupportEngineering/Shared%20Documents/Mobile%20SDK/crash.log"
SETTINGS = (
    "https://contoso.sharepoint.com/sites/SupportEngineering/Shared%20Documents/Mobile%20SDK/keystore-settings.png"
)


async def asked(teams: Teams, question: str = "How do I unlock the signing keystore?") -> tuple[Escalation, str]:
    await teams.install()
    await teams.say(SAM, f"escalate sdk {question}")
    await teams.runtime.dispatch()
    esc = await teams.only_escalation()
    [post] = teams.connector.of("create")
    teams.connector.clear()
    return esc, post.conversation.partition(";messageid=")[2]


def opens(card: dict[str, Any] | None) -> list[str]:
    return [a["url"] for a in (card or {}).get("actions", []) if a["type"] == "Action.OpenUrl"]


async def test_a_reply_with_files_is_counted_and_the_requester_gets_their_links(teams: Teams) -> None:
    esc, root = await asked(teams)
    await teams.send("thread_reply_file", user=ADA[0], name=ADA[1], root=root, text="The trace and the setting.")
    after = await teams.reload(esc)
    assert after.replies == 1 and after.first_responder is not None and after.first_responder.id == ADA[0]
    assert after.ball == Ball.requester and after.first_response_pull is True
    assert [(f.name, f.url) for f in after.files] == [("crash.log", CRASH_LOG), ("keystore-settings.png", SETTINGS)]
    # The pre-authorised download URL is a credential of sorts: never kept.
    assert "tempauth" not in after.model_dump_json()
    await teams.runtime.dispatch()
    dm = teams.connector.dms_to(SAM[0])[-1].card()
    shown = json.dumps(dm)
    assert "Ada replied to your question: The trace and the setting." in shown
    assert "With 2 files: crash.log, keystore-settings.png" in shown
    assert CRASH_LOG in opens(dm) and SETTINGS in opens(dm)


async def test_the_answer_keeps_its_files_on_the_card_and_in_search(teams: Teams) -> None:
    esc, root = await asked(teams)
    await teams.send("thread_reply_file", user=ADA[0], name=ADA[1], root=root, text="See the trace.")
    await teams.act(SAM, "resolve", esc, personal=True, answer="Unlock the keystore before signing.")
    resolved = await teams.reload(esc)
    assert resolved.status == Status.resolved and len(resolved.files) == 2
    await teams.runtime.dispatch()
    card = teams.connector.of("update")[-1].card() or {}
    facts = {f["title"]: f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]}
    assert facts["Files"] == "with 2 files: crash.log, keystore-settings.png"
    assert CRASH_LOG in opens(card)
    teams.connector.clear()
    await teams.say(EVE, "search unlock signing keystore")
    [found] = teams.connector.dms_to(EVE[0])
    shown = json.dumps(found.card())
    assert "with 2 files: crash.log, keystore-settings.png" in shown and CRASH_LOG in shown


# Each shape of thread reply, and what the requester is told of it.
REPLIES = {
    # A pasted image: its URL needs the bot's token, so it is said by name only.
    "thread_reply_image": ("Here it is:", ("image 1",), "With 1 file: image 1"),
    # In a channel, inline images and file references may come only inside the HTML (emoji skipped).
    "thread_reply_inline_html": ("Like this", ("image 1", "a file"), "With 2 files: image 1, a file"),
    # A card a person posted (a messaging extension), with no text: its words are the reply.
    "thread_reply_card": ("Unlock it with the rotate endpoint.", (), "KB-2291: Rotating signing keys"),
}


@pytest.mark.parametrize("kind", list(REPLIES))
async def test_each_shape_of_reply_counts(teams: Teams, kind: str) -> None:
    text, names, told = REPLIES[kind]
    esc, root = await asked(teams)
    await teams.send(kind, user=ADA[0], name=ADA[1], root=root, text=text)
    after = await teams.reload(esc)
    assert after.replies == 1 and after.first_response_at is not None, kind
    assert tuple(f.name for f in after.files) == names
    await teams.runtime.dispatch()
    shown = json.dumps(teams.connector.dms_to(SAM[0])[-1].card())
    assert "Ada replied to your question" in shown and told in shown and text in shown


@pytest.mark.parametrize(
    ("kind", "user"),
    [("thread_reply_edited", ADA), ("thread_reply_deleted", ADA), ("thread_reply_file", ("28:other-bot", "Bot"))],
)
async def test_edits_deletions_and_bots_change_nothing(teams: Teams, kind: str, user: tuple[str, str]) -> None:
    esc, root = await asked(teams)
    await teams.send(kind, user=user[0], name=user[1], root=root, text="changed words")
    after = await teams.reload(esc)
    assert (after.version, after.replies, after.files) == (esc.version, 0, ()), kind
    assert await teams.runtime.dispatch() == 0
