"""Inbound Teams activities: commands, the form, card actions, reactions, thread replies,
the message extension; duplicates and refusals."""

from __future__ import annotations

from typing import Any

from adapters.teams.text import escape_card_text, escape_message_text
from workflows.model import Ownership, Status

from .conftest import ADA, BEN, CHANNEL, EVE, SAM, SUPPORT, TENANT, Teams, payload

CARD = "application/vnd.microsoft.card.adaptive"


async def _opened(teams: Teams) -> tuple[Any, str]:
    await teams.install()
    await teams.say(SAM, "escalate sdk Why does login fail?")
    await teams.runtime.dispatch()
    post = teams.connector.of("create")[-1]
    return await teams.only_escalation(), post.conversation.partition(";messageid=")[2]


async def test_escalate_alone_replies_with_a_form(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "escalate")
    card = teams.connector.calls[-1].card()
    assert card is not None
    ids = [b.get("id") for b in card["body"]]
    assert ids[1:] == ["community", "question", "priority", "customer", "link"]
    communities = [c["value"] for c in card["body"][1]["choices"]]
    assert communities == ["sdk", "billing"]
    assert card["actions"][0]["verb"] == "open"


async def test_the_form_opens_an_escalation_from_a_card_action(teams: Teams) -> None:
    await teams.install()
    data = {"verb": "open", "community": "sdk", "question": "Crash on start", "priority": "urgent", "customer": "Acme"}
    response = await teams.send(
        "card_action",
        user=SAM[0],
        name=SAM[1],
        verb="open",
        data=data,
        conversation=f"a:dm-{SAM[0]}",
        conversation_type="personal",
    )
    assert response["type"] == CARD and "Escalated to Mobile SDK" in str(response["value"])
    esc = await teams.only_escalation()
    assert esc.priority.value == "urgent" and esc.customer == "Acme"


async def test_help_explains_usage(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "help")
    assert "escalate" in teams.connector.calls[-1].text()
    await teams.send("personal_message", user=SAM[0], name=SAM[1], text="help")
    assert "status" in teams.connector.calls[-1].text()


async def test_status_shows_owner_next_step_and_when(teams: Teams) -> None:
    esc, _ = await _opened(teams)
    await teams.act(ADA, "claim", esc)
    await teams.send("personal_message", user=SAM[0], name=SAM[1], text="status")
    card = teams.connector.calls[-1].card()
    assert card is not None
    text = str(card)
    assert "Why does login fail?" in text
    assert "'title': 'Owner', 'value': 'Ada'" in text
    assert "Remind the owner at Mon 2 Mar 13:00 (UTC)" in text


async def test_an_unknown_community_gets_the_form_with_the_communities(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "escalate nope Something")
    card = teams.connector.calls[-1].card()
    assert card is not None
    assert "There is no community called “nope”" in card["body"][1]["text"]
    assert [c["value"] for c in card["body"][2]["choices"]] == ["sdk", "billing"]
    assert card["body"][3]["value"] == "nope Something"
    assert await teams.runtime.service.requested_by(_sam(), _teams_scope()) == []


def _sam() -> Any:
    from workflows.model import PersonRef, Platform

    return PersonRef(platform=Platform.teams, id=SAM[0], tenant=TENANT)


def _teams_scope() -> Any:
    from workflows.ports import Scope

    return Scope("teams", TENANT)


async def test_a_redelivered_activity_has_one_effect(teams: Teams) -> None:
    await teams.install()
    values: dict[str, Any] = {
        "user": SAM[0],
        "name": SAM[1],
        "text": "escalate sdk Same question twice",
        "channel": CHANNEL,
    }
    await teams.send("channel_mention", id="1677999001", **values)
    await teams.send("channel_mention", id="1677999001", **values)
    assert len(teams.connector.of("reply")) == 1  # acknowledged once
    esc = await teams.only_escalation()
    assert await teams.runtime.dispatch() == 2  # the card and the requester's confirmation
    assert len(teams.connector.of("create")) == 1

    # The same button press delivered twice claims once.
    for _ in range(2):
        await teams.send(
            "card_action",
            id="1677999002",
            user=ADA[0],
            name=ADA[1],
            verb="claim",
            data={"verb": "claim", "escalation_id": esc.id, "version": esc.version},
            conversation=f"{CHANNEL};messageid=1",
            conversation_type="channel",
        )
    esc = await teams.reload(esc)
    assert esc.version == 2
    async with teams.runtime.store.unit_of_work() as uow:
        assert await uow.audit.count(escalation_id=esc.id, action="claimed") == 1


async def test_a_non_experts_assign_is_refused_to_them_alone(teams: Teams) -> None:
    esc, root = await _opened(teams)
    teams.connector.clear()
    response = await teams.act(EVE, "assign", esc, card_message=root, assignee=f"teams||{ADA[0]}|Ada")
    # The invoke response is the card as it is, with the refusal on top, for Eve alone.
    assert response["statusCode"] == 200 and response["type"] == CARD
    warning = response["value"]["body"][0]
    assert warning["color"] == "Attention"
    assert warning["text"].startswith("Only the requester, the owner or the Mobile SDK experts can assign")
    assert (await teams.reload(esc)).version == esc.version
    assert await teams.runtime.dispatch() == 0
    assert teams.connector.calls == []  # nothing said in the channel


async def test_an_expert_assigns_from_the_card(teams: Teams) -> None:
    esc, root = await _opened(teams)
    response = await teams.act(BEN, "assign", esc, card_message=root, assignee=f"teams||{ADA[0]}|Ada")
    assert response["type"] == CARD
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == ADA[0] and esc.owner.kind == Ownership.assigned


async def test_a_reaction_on_the_card_claims_it(teams: Teams) -> None:
    esc, root = await _opened(teams)
    await teams.send("reaction", user=BEN[0], name=BEN[1], root=root)
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == BEN[0] and esc.owner.kind == Ownership.claimed


async def test_a_reaction_by_a_non_expert_is_refused_privately(teams: Teams) -> None:
    esc, root = await _opened(teams)
    teams.connector.clear()
    await teams.send("reaction", user=EVE[0], name=EVE[1], root=root)
    assert (await teams.reload(esc)).owner is None
    [told] = teams.connector.dms_to(EVE[0])
    assert "Only Mobile SDK experts can claim" in told.text()


async def test_thread_replies_are_replies_and_the_bots_own_messages_are_ignored(teams: Teams) -> None:
    esc, root = await _opened(teams)
    await teams.send("thread_reply", user=ADA[0], name=ADA[1], root=root, text="Looking at the logs")
    await teams.send("thread_reply", user="28:some-bot", name="Bot", root=root, text="echo")
    esc = await teams.reload(esc)
    assert esc.replies == 1 and esc.first_responder is not None and esc.first_responder.id == ADA[0]
    await teams.send("thread_reply", user=ADA[0], name=ADA[1], root="unrelated", text="other thread")
    assert (await teams.reload(esc)).replies == 1


async def test_the_submit_fallback_runs_the_same_command(teams: Teams) -> None:
    esc, root = await _opened(teams)
    value = {"verb": "claim", "escalation_id": esc.id, "version": esc.version}
    activity_values = teams.values(user=BEN[0], name=BEN[1], root=root, text="")
    activity = payload("thread_reply", **activity_values)
    activity["value"] = value
    response = await teams.post(activity)
    assert response.status == 200
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == BEN[0]


async def test_the_message_extension_opens_the_form_prefilled_and_submits(teams: Teams) -> None:
    await teams.install()
    html = "<p>Customer says <b>SSO</b> fails &amp; times out</p>"
    response = await teams.send("extension_fetch_task", user=SAM[0], name=SAM[1], message="1677555", html=html)
    task = response["task"]
    assert task["type"] == "continue" and task["value"]["title"] == "Escalate to experts"
    form = task["value"]["card"]["content"]
    question = next(b for b in form["body"] if b.get("id") == "question")
    assert question["value"] == "Customer says SSO fails & times out"
    submit = form["actions"][0]
    assert submit["type"] == "Action.Submit"

    data = {**submit["data"], "community": "sdk", "question": question["value"], "priority": "high"}
    response = await teams.send("extension_submit_action", user=SAM[0], name=SAM[1], message="1677555", data=data)
    assert response["task"]["type"] == "message" and "Escalated to Mobile SDK" in response["task"]["value"]
    esc = await teams.only_escalation()
    assert esc.source is not None and esc.source.id == "1677555" and esc.source.tenant == TENANT
    assert esc.status == Status.open and esc.priority.value == "high"


async def test_the_message_extension_shows_a_refusal_in_the_form(teams: Teams) -> None:
    await teams.install()
    data = {"verb": "open", "community": "nope", "question": "Q"}
    response = await teams.send("extension_submit_action", user=SAM[0], name=SAM[1], message="1", data=data)
    form = response["task"]["value"]["card"]["content"]
    assert "no community called" in form["body"][1]["text"]


async def test_a_message_extension_value_of_the_wrong_shape_is_refused_with_400(teams: Teams) -> None:
    """botbuilder reads the value into its models before our handlers: found by the fuzzer,
    a messagePayload whose mentions are lists, not objects, ended in a 500."""
    await teams.install()
    activity = payload("extension_submit_action", **teams.values(user=SAM[0], name=SAM[1], message="1", data={}))
    activity["value"]["messagePayload"] = {"id": "1", "mentions": [[1, 2], {"x": False}]}
    response = await teams.post(activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in (await response.json())["error"]
    async with teams.runtime.store.unit_of_work() as uow:
        assert await uow.escalations.list_by_community("sdk") == []


def test_user_text_is_escaped_for_cards_and_messages() -> None:
    nasty = "**bold** _it_ [click](https://evil.example) <at>Ada</at>\n- item\n# title"
    card = escape_card_text(nasty)
    assert "\\*\\*bold\\*\\*" in card and "\\[click\\]" in card and "<at>" not in card
    assert "\n\\- item" in card and "\n\\# title" in card
    message = escape_message_text(nasty)
    assert "&lt;at&gt;Ada&lt;/at&gt;" in message and "<at>" not in message and "\\[click\\]" in message


async def test_the_question_card_escapes_what_people_typed(teams: Teams) -> None:
    await teams.install()
    # Teams sends what people typed as HTML: a literal "<at>" arrives entity-encoded.
    await teams.say(SAM, "escalate sdk Why [this](https://evil.example) &lt;at&gt;Ada&lt;/at&gt;?")
    await teams.runtime.dispatch()
    card = teams.connector.of("create")[-1].card() or {}
    assert card["body"][1]["text"] == "Why \\[this\\](https://evil.example) <\u200bat>Ada<\u200b/at>?"


async def test_too_long_input_is_refused_not_a_server_error(teams: Teams) -> None:
    await teams.install()
    data = {"verb": "open", "community": "sdk", "question": "Q", "customer": "x" * 600}
    response = await teams.send(
        "card_action",
        user=SAM[0],
        name=SAM[1],
        verb="open",
        data=data,
        conversation=f"a:dm-{SAM[0]}",
        conversation_type="personal",
    )
    form = response["value"]
    assert form["body"][1]["color"] == "Attention" and "too long" in form["body"][1]["text"]


async def test_uninstalling_marks_the_conversation_unreachable(teams: Teams) -> None:
    await teams.send("install_personal", user=ADA[0], name=ADA[1])
    stored = await teams.conversations.personal_conversation(TENANT, ADA[0])
    assert stored is not None and not stored.unreachable
    removal = payload("install_personal", **teams.values(user=ADA[0], name=ADA[1]))
    removal["action"] = "remove"
    assert (await teams.post(removal)).status == 200
    stored = await teams.conversations.personal_conversation(TENANT, ADA[0])
    assert stored is not None and stored.unreachable
    # Installing again makes it reachable.
    await teams.send("install_personal", user=ADA[0], name=ADA[1])
    stored = await teams.conversations.personal_conversation(TENANT, ADA[0])
    assert stored is not None and not stored.unreachable


async def test_a_failed_acknowledgement_does_not_undo_or_fail_the_request(teams: Teams) -> None:
    await teams.install()
    teams.connector.block(SUPPORT, status=403, code="MessageWritesBlocked")
    await teams.say(SAM, "escalate sdk Opened even if the answer cannot be posted")
    assert (await teams.only_escalation()).question.startswith("Opened even if")
