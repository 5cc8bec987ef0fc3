"""The whole Teams story, over HTTP, on the configured database (SQLite or PostgreSQL):
open -> nudge -> auto-assign -> reassign -> accept -> reply -> resolve."""

from __future__ import annotations

from datetime import timedelta

from workflows.model import Ownership, Status

from .conftest import ADA, BEN, CHANNEL, SAM, SUPPORT, TENANT, Teams
from .fakes import ACCESS_TOKEN

CARD = "application/vnd.microsoft.card.adaptive"


def _facts(card: dict[str, object]) -> dict[str, str]:
    body = card["body"]
    assert isinstance(body, list)
    facts = next(b for b in body if b["type"] == "FactSet")["facts"]
    return {f["title"]: f["value"] for f in facts}


async def test_open_nudge_assign_reassign_accept_reply_resolve(teams: Teams) -> None:
    connector = teams.connector
    await teams.install()

    # Sam, in the support channel, mentions the bot.
    await teams.say(SAM, "escalate sdk How do I rotate the *signing* key without downtime?")
    ack = connector.of("reply")[-1]
    assert ack.conversation.startswith(SUPPORT) and "Escalated to Mobile SDK" in ack.text()
    esc = await teams.only_escalation()
    assert esc.requester.id == SAM[0] and esc.requester.tenant == TENANT

    # The question card: a new thread in the experts' channel, Adaptive Card 1.5 (and the
    # requester's confirmation, which the reply above already gave: no call).
    assert await teams.runtime.dispatch() == 2
    [post] = connector.of("create")
    assert post.body["channelData"]["channel"]["id"] == CHANNEL
    assert post.authorization == f"Bearer {ACCESS_TOKEN}"
    card = post.card()
    assert card is not None and card["version"] == "1.5"
    assert card["body"][1]["text"] == "How do I rotate the \\*signing\\* key without downtime?"
    claim = card["actions"][0]
    assert claim["type"] == "Action.Execute" and claim["verb"] == "claim"
    assert claim["data"] == {"verb": "claim", "escalation_id": esc.id, "version": 1}
    assert claim["fallback"]["type"] == "Action.Submit"
    thread = post.conversation
    root = thread.partition(";messageid=")[2]

    # 30 minutes without an answer: the experts are nudged in the thread, with mentions.
    teams.clock.advance(timedelta(minutes=31))
    assert await teams.runtime.sweep() == 1
    await teams.runtime.dispatch()
    nudge = connector.in_conversation(thread)[-1]
    assert nudge.kind == "send" and "waited" in nudge.text()
    mentioned = {e["mentioned"]["id"] for e in nudge.body["entities"]}
    assert mentioned == {ADA[0], BEN[0], "29:chen"}
    assert "<at>Ada</at>" in nudge.text()

    # 2 hours: assigned by rotation to Ada, who gets a 1:1 card with Accept / Reassign / Decline.
    teams.clock.advance(timedelta(hours=2))
    assert await teams.runtime.sweep() == 1
    await teams.runtime.dispatch()
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == ADA[0] and esc.owner.kind == Ownership.assigned
    created_dm = [c for c in connector.of("create") if c.body.get("members")]
    assert {c.body["members"][0]["id"] for c in created_dm} == {ADA[0], SAM[0]}
    assigned = connector.dms_to(ADA[0])[-1].card()
    assert assigned is not None
    verbs = [a.get("verb") or a.get("card", {}).get("actions", [{}])[0].get("verb") for a in assigned["actions"]]
    assert verbs == ["accept", "reassign", "decline", None]
    assert assigned["actions"][-1]["type"] == "Action.OpenUrl"  # "Open the thread"
    assert "Your question is now assigned to Ada" in str(connector.dms_to(SAM[0])[-1].card())
    update = connector.of("update")[-1]
    assert update.conversation == thread and update.activity_id == root
    assert _facts(update.card() or {})["Status"] == "Assigned to Ada (not yet accepted)"
    ada_dm = await teams.conversations.personal_conversation(TENANT, ADA[0])
    assert ada_dm is not None and ada_dm.conversation_id == f"a:dm-{ADA[0]}"

    # Ada reassigns it to Ben from her 1:1 chat; the invoke answers with the refreshed card.
    response = await teams.act(ADA, "reassign", esc, personal=True, to=f"teams||{BEN[0]}|Ben")
    assert response["statusCode"] == 200 and response["type"] == CARD
    assert "Assigned to Ben" in str(response["value"])
    await teams.runtime.dispatch()
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.person.id == BEN[0]
    assert connector.dms_to(BEN[0]), "Ben is told privately"

    # Ben accepts.
    response = await teams.act(BEN, "accept", esc, personal=True)
    assert response["type"] == CARD and "You accepted this question." in str(response["value"])
    await teams.runtime.dispatch()
    esc = await teams.reload(esc)
    assert esc.owner is not None and esc.owner.kind == Ownership.accepted
    assert "Ben is working on your question" in str(connector.dms_to(SAM[0])[-1].card())

    # Ben answers in the card's thread (no mention needed: resource-specific consent).
    await teams.send(
        "thread_reply", user=BEN[0], name=BEN[1], root=root, text="Use the rotate endpoint, then <b>redeploy</b>."
    )
    await teams.runtime.dispatch()
    esc = await teams.reload(esc)
    assert esc.replies == 1 and esc.first_responder is not None and esc.first_responder.id == BEN[0]

    # Sam resolves from his 1:1 chat with the answer for the knowledge base.
    response = await teams.act(SAM, "resolve", esc, personal=True, answer="Rotate, then redeploy.")
    assert response["type"] == CARD and "Resolved" in str(response["value"])
    await teams.runtime.dispatch()
    esc = await teams.reload(esc)
    assert esc.status == Status.resolved and esc.answer == "Rotate, then redeploy."
    final = connector.of("update")[-1].card() or {}
    assert _facts(final)["Status"] == "Resolved by Sam"
    assert [a["verb"] for a in final["actions"]] == ["reopen"]

    async with teams.runtime.store.unit_of_work() as uow:
        counts = await uow.outbox.counts()
    assert counts.get("failed", 0) == 0 and counts.get("pending", 0) == 0
