"""End to end in Slack: /escalate -> card -> nudge -> auto-assign DM -> reassign from the DM
-> accept -> expert reply in the thread -> resolve with an answer via the modal."""

from __future__ import annotations

import json

from workflows.model import Ownership, Status

from .conftest import CHANNEL, SlackHarness
from .fake_slack import BOT_USER, WORKSPACE_URL


def texts(call_args: dict[str, object]) -> str:
    return json.dumps(call_args, ensure_ascii=False)


async def test_the_whole_story(slack: SlackHarness) -> None:
    fake = slack.fake
    # -- Sam keeps an eye on the bot's App Home tab (so changes refresh it).
    await slack.event("app_home_opened", user="U0SAM")
    assert "My escalations" in texts(fake.of("views.publish", user_id="U0SAM")[0].args)
    fake.clear()
    # -- Sam escalates with the slash command: acknowledged at once, ephemeral.
    reply = await slack.command("sdk How do I rotate the signing keys without downtime?")
    assert reply.status == 200
    assert "Escalated to *Mobile SDK*" in reply.json()["text"]
    esc = await slack.only_escalation()
    assert esc.requester.id == "U0SAM" and esc.requester.tenant == "T0ACME"
    assert fake.posts(CHANNEL) == []  # nothing is sent inside the request: the outbox does it

    # -- The card is posted, with metadata and buttons; Sam gets a DM with its link.
    await slack.settle()
    [card] = fake.posts(CHANNEL, thread=False)
    assert card.args["metadata"]["event_type"] == "escalation_card"
    assert card.args["metadata"]["event_payload"]["escalation_id"] == esc.id
    assert card.args["metadata"]["event_payload"]["idempotency_key"]
    card_dump = texts(card.args)
    assert "rotate the signing keys" in card_dump
    assert "Unclaimed" in card_dump and "nudge the experts in 30m" in card_dump
    action_ids = {e["action_id"] for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {"claim", "assign", "resolve", "more"} <= action_ids
    ts = await slack.card_ts(esc.id)
    [confirmation] = fake.posts("U0SAM")
    assert f"{WORKSPACE_URL}archives/{CHANNEL}/p{ts.replace('.', '')}" in texts(confirmation.args)
    assert fake.of("views.publish", user_id="U0SAM")  # App Home refreshed

    # -- Nobody replies: after 30 minutes a nudge in the thread mentions the experts.
    fake.clear()
    await slack.wait(minutes=30)
    [nudge] = fake.posts(CHANNEL, thread=True)
    assert nudge.args["thread_ts"] == ts
    assert all(f"<@{u}>" in nudge.args["text"] for u in ("U0ADA", "U0BEN", "U0CHEN"))

    # -- After 2 hours: auto-assigned to Ada by DM with Accept / Reassign / Decline.
    fake.clear()
    await slack.wait(minutes=90)
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.person.id == "U0ADA" and esc.owner.kind == Ownership.assigned
    [ada_dm] = fake.posts("U0ADA")
    dm_actions = {e["action_id"] for b in ada_dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {"accept", "reassign_to", "decline"} <= dm_actions
    assert "Open the thread" in texts(ada_dm.args)
    [update] = fake.of("chat.update")
    assert update.args["ts"] == ts and "Assigned to <@U0ADA>" in texts(update.args)
    assert "assigned to Ada" in texts(fake.posts("U0SAM")[0].args)

    # -- Ada reassigns to Ben from the DM.
    fake.clear()
    ada_dm_channel = "D0ADA"  # the fake answers DMs to U0ADA in channel D + id[1:]
    dm_blocks = ada_dm.args["blocks"]
    actions_block = next(b for b in dm_blocks if b["type"] == "actions")
    reply = await slack.action(
        {
            "action_id": "reassign_to",
            "type": "users_select",
            "block_id": actions_block["block_id"],
            "selected_user": "U0BEN",
        },
        user="U0ADA",
        channel=ada_dm_channel,
        message_ts="1772442000.000009",
        blocks=dm_blocks,
        response="ada-dm",
    )
    assert reply.status == 200
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.person.id == "U0BEN"
    [replaced] = fake.of("response_url:ada-dm")
    assert replaced.args["replace_original"] is True
    assert all(b["type"] != "actions" for b in replaced.args["blocks"])
    await slack.settle()
    [ben_dm] = fake.posts("U0BEN")
    assert "assigned you a question" in texts(ben_dm.args)

    # -- Ben accepts from his DM.
    fake.clear()
    reply = await slack.action(
        {"action_id": "accept", "value": slack.value(esc)}, user="U0BEN", channel="D0BEN", response="ben-dm"
    )
    assert reply.status == 200
    esc = await slack.escalation(esc.id)
    assert esc.owner is not None and esc.owner.kind == Ownership.accepted
    await slack.settle()
    assert "<@U0BEN> is on it" in texts(fake.of("chat.update")[-1].args)

    # -- Ben replies in the card's thread: the first response.
    reply = await slack.event(
        "message_in_thread",
        user="U0BEN",
        text="Use `sdk keys rotate --grace 1h`.",
        ts="1772450000.000100",
        thread_ts=ts,
        channel=CHANNEL,
    )
    assert reply.status == 200
    esc = await slack.escalation(esc.id)
    assert esc.replies == 1 and esc.first_responder is not None and esc.first_responder.id == "U0BEN"
    # The bot's own thread messages and edits are not replies.
    await slack.event("bot_message_in_thread", ts="1772450000.000200", thread_ts=ts, channel=CHANNEL)
    await slack.event("message_changed", ts="1772450000.000100", thread_ts=ts, channel=CHANNEL)
    await slack.event(
        "message_in_thread", user=BOT_USER, text="me", ts="1772450000.000300", thread_ts=ts, channel=CHANNEL
    )
    assert (await slack.escalation(esc.id)).replies == 1
    await slack.settle()

    # -- Ben resolves from the card: the modal asks for the answer.
    fake.clear()
    reply = await slack.action({"action_id": "resolve", "value": slack.value(esc)}, user="U0BEN", message_ts=ts)
    assert reply.status == 200
    [opened] = fake.of("views.open")
    modal = opened.args["view"]
    assert modal["callback_id"] == "resolve_modal"
    reply = await slack.submit(
        "resolve_modal",
        {"answer": {"value": {"type": "plain_text_input", "value": "Rotate with a 1h grace period."}}},
        user="U0BEN",
        private_metadata=modal["private_metadata"],
    )
    assert reply.status == 200 and reply.text == ""  # closes the modal
    esc = await slack.escalation(esc.id)
    assert esc.status == Status.resolved and esc.answer == "Rotate with a 1h grace period."

    # -- The card shows it resolved with the answer; Sam gets the answer by DM.
    await slack.settle()
    final = fake.of("chat.update")[-1]
    assert final.args["ts"] == ts
    assert "Resolved by <@U0BEN>" in texts(final.args)
    assert "Rotate with a 1h grace period." in texts(final.args)
    final_actions = {e["action_id"] for b in final.args["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert final_actions == {"reopen"}
    sam_dms = fake.posts("U0SAM")
    assert any("Rotate with a 1h grace period." in texts(c.args) for c in sam_dms)
    # Fresh block ids on every version.
    first_ids = {b["block_id"] for b in card.args["blocks"]}
    assert first_ids.isdisjoint({b["block_id"] for b in final.args["blocks"]})
