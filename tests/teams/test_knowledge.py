"""Issue 6 on Teams, over HTTP: search (privately, ranked, within the tenant), deflection
(earlier answers first, "This answers it" / "Still escalate"), and the daily digest in the
channel with Claim buttons that work like the card's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from adapters.teams.digest_card import MAX_CARD_BYTES, digest_card
from storage import Store
from workflows.clock import FakeClock
from workflows.commands import Release, Resolve
from workflows.delivery import DeliveryContext
from workflows.effects import DigestItem, PostDigest
from workflows.model import ChannelRef, Escalation, Ownership, PersonRef, Platform, Status
from workflows.ports import Scope

from .conftest import ADA, BEN, CHANNEL, CONFIG, EVE, SAM, SUPPORT, TEAM, TENANT, Teams, make_teams, payload
from .fakes import Call, FakeConnector, FakeLogin

CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
OTHER_TENANT = "0b0b0b0b-other-tenant"
OTHER_TEAM = "19:other-team@thread.tacv2"
OTHER_CHANNEL = "19:other-experts@thread.tacv2"
ZED = ("29:zed", "Zed")
NASTY = "**bold** [click](https://evil.example) <at>Ada</at>\n# title"
NASTY_ESCAPED = "\\*\\*bold\\*\\* \\[click\\](https://evil.example) <\u200bat>Ada<\u200b/at>\n\\# title"
# On one line (the digest), "#" is no longer at a line start and needs no escaping.
NASTY_ONE_LINE = "\\*\\*bold\\*\\* \\[click\\](https://evil.example) <\u200bat>Ada<\u200b/at> # title"

TWO_TENANTS = (
    CONFIG
    + f"""
  - key: other
    name: Other Co
    teams: {{channel: "{OTHER_CHANNEL}", team: "{OTHER_TEAM}", tenant: "{OTHER_TENANT}"}}
    experts: ["teams:29:ada"]
"""
)


@pytest.fixture
async def two_tenants(
    store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector
) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=TWO_TENANTS):
        yield harness


# Mobile SDK's digest at 14:00 (questions asked at 09:00 are overdue by then), said even when empty.
DIGESTS = CONFIG.replace(
    '    lead: "teams:29:lee"\n',
    '    lead: "teams:29:lee"\n    policy: {digest_at: "14:00", digest_when_empty: true}\n',
    1,
)


@pytest.fixture
async def digests(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, communities=DIGESTS):
        yield harness


def person(who: tuple[str, str], tenant: str = TENANT) -> PersonRef:
    return PersonRef(platform=Platform.teams, id=who[0], tenant=tenant, name=who[1])


def texts(node: Any) -> list[str]:
    """Every TextBlock/fact text in a card, in order."""
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            out.append(str(node.get("text")))
        if node.get("type") == "FactSet":
            out += [f"{f['title']}: {f['value']}" for f in node["facts"]]
        for value in node.values():
            out += texts(value) if isinstance(value, (dict, list)) else []
    elif isinstance(node, list):
        for value in node:
            out += texts(value)
    return out


def actions_of(node: Any, kind: str) -> list[dict[str, Any]]:
    """Every action of ``kind`` (Action.Execute, Action.OpenUrl) anywhere in a card."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            out.append(node)
        for key, value in node.items():
            if key != "fallback":
                out += actions_of(value, kind)
    elif isinstance(node, list):
        for value in node:
            out += actions_of(value, kind)
    return out


async def press(
    teams: Teams, who: tuple[str, str], action: dict[str, Any], *, conversation: str, personal: bool = False
) -> dict[str, Any]:
    """Presses a button exactly as it is on the card (its verb and data)."""
    return await teams.send(
        "card_action",
        user=who[0],
        name=who[1],
        verb=action["verb"],
        data=action["data"],
        conversation=conversation,
        conversation_type="personal" if personal else "channel",
        message=conversation.partition(";messageid=")[2],
    )


async def in_community(teams: Teams, key: str = "sdk") -> list[Escalation]:
    async with teams.runtime.store.unit_of_work() as uow:
        return list(await uow.escalations.list_by_community(key))


async def answered(teams: Teams, question: str, answer: str, *, tenant: str = TENANT, key: str = "sdk") -> Escalation:
    """A resolved escalation with its card posted: knowledge to find."""
    asker = person(SAM if tenant == TENANT else ZED, tenant)
    outcome = await teams.runtime.service.open(requester=asker, community_key=key, question=question)
    esc = outcome.escalation
    assert esc is not None
    if esc.held:
        await teams.runtime.service.handle(Release(id=f"go-{esc.id}", escalation_id=esc.id, actor=asker))
    await teams.runtime.dispatch()
    await teams.runtime.service.handle(Resolve(id=f"r-{esc.id}", escalation_id=esc.id, actor=asker, answer=answer))
    await teams.runtime.dispatch()
    return esc


def posted_in(teams: Teams, channel: str) -> list[Call]:
    return [
        c for c in teams.connector.of("create") if (c.body.get("channelData") or {}).get("channel") == {"id": channel}
    ]


async def card_root(teams: Teams, esc: Escalation) -> str:
    refs = await teams.runtime.service.messages(esc.id, Scope(Platform.teams.value, esc.requester.tenant), "card")
    assert refs, "the question card was posted"
    return refs[0].id


# ---------------------------------------------------------------- search


async def test_search_answers_privately_with_ranked_matches_from_the_tenant_only(two_tenants: Teams) -> None:
    teams = two_tenants
    await teams.install()
    await teams.send("install_team", tenant=OTHER_TENANT, team=OTHER_TEAM)
    best = await answered(
        teams, "How do I rotate the signing key without downtime?", "Rotate the signing key, redeploy."
    )
    await answered(teams, "Push notifications arrive late", "Battery optimisation; unrelated to any signing key.")
    await answered(teams, "Billing export misses VAT", "Enable the tax fields.")
    await answered(
        teams, "Rotate signing key at Other Co", "Other Co rotates its signing key.", tenant=OTHER_TENANT, key="other"
    )
    root = await card_root(teams, best)
    teams.connector.clear()

    # Asked in a channel: the answer goes to the asker's 1:1 chat; the channel gets a pointer only.
    await teams.say(EVE, "search rotate signing key")
    [dm] = teams.connector.dms_to(EVE[0])
    card = dm.card()
    assert card is not None
    shown = texts(card)
    assert shown[0] == "Search: rotate signing key"
    questions = [t for t in shown if t.endswith("?") or t.startswith(("Push", "Billing", "Rotate"))]
    assert questions[0] == "How do I rotate the signing key without downtime?"
    assert "Answer: Rotate the signing key, redeploy." in shown
    assert "Mobile SDK" in shown
    assert not any("Other Co" in t or "VAT" in t for t in shown)  # another tenant; unrelated
    [link] = actions_of(card, "Action.OpenUrl")[:1]
    assert link["url"].startswith(f"https://teams.microsoft.com/l/message/19%3Asdk-experts%40thread.tacv2/{root}?")
    assert f"tenantId={TENANT}" in link["url"] and f"parentMessageId={root}" in link["url"]
    [pointer] = teams.connector.of("reply")
    assert pointer.conversation.startswith(SUPPORT) and "1:1 chat" in pointer.text()
    assert "Rotate the signing key" not in json.dumps(
        [c.body for c in teams.connector.in_conversation(pointer.conversation)]
    )

    # Nothing found says so.
    await teams.say(EVE, "search kubernetes ingress")
    assert any("Nothing found" in t for t in texts(teams.connector.dms_to(EVE[0])[-1].card()))

    # In a personal chat the answer is simply the reply.
    teams.connector.clear()
    await teams.send("personal_message", user=EVE[0], name=EVE[1], text="search signing **key**")
    [reply] = teams.connector.of("reply")
    assert reply.conversation == f"a:dm-{EVE[0]}"
    assert texts(reply.card())[0] == "Search: signing \\*\\*key\\*\\*"
    assert "How do I rotate the signing key without downtime?" in texts(reply.card())

    # The other tenant sees its own knowledge and nothing of ours.
    teams.connector.clear()
    await teams.say(ZED, "search rotate signing key", tenant=OTHER_TENANT, team=OTHER_TEAM, channel="19:other@x")
    other = texts(teams.connector.dms_to(ZED[0])[-1].card())
    assert "Rotate signing key at Other Co" in other
    assert not any("without downtime" in t or "Mobile SDK" in t for t in other)


async def test_help_mentions_search(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "help")
    assert "search" in teams.connector.calls[-1].text()


# ---------------------------------------------------------------- deflection


async def _held(teams: Teams) -> tuple[Escalation, Escalation, str, dict[str, Any]]:
    """An answered question, then Sam's similar one: held, with the suggestions card sent to him."""
    await teams.install()
    await teams.say(SAM, "escalate sdk iOS build fails with a signing certificate error")
    await teams.runtime.dispatch()
    old = (await in_community(teams))[0]
    root = await card_root(teams, old)
    await teams.act(ADA, "resolve", old, card_message=root, answer=f"Renew the certificate. {NASTY}")
    await teams.runtime.dispatch()
    teams.connector.clear()

    await teams.say(SAM, "escalate sdk Our iOS build fails: signing certificate expired?")
    ack = teams.connector.of("reply")[-1].text()
    assert "sent you their answers privately" in ack and "experts in 10m" in ack
    assert "Escalated" not in ack and "experts see it now" not in ack
    [new] = [e for e in await in_community(teams) if e.id != old.id]
    assert new.held and new.status == Status.open
    await teams.runtime.dispatch()
    assert posted_in(teams, CHANNEL) == []  # no card for the experts yet
    [dm] = teams.connector.dms_to(SAM[0])
    card = dm.card()
    assert card is not None
    return old, new, root, card


async def test_a_similar_question_shows_earlier_answers_and_this_answers_it_closes_it(teams: Teams) -> None:
    old, new, root, card = await _held(teams)
    shown = texts(card)
    assert "iOS build fails with a signing certificate error" in shown
    assert f"Answer: Renew the certificate. {NASTY_ESCAPED}" in shown  # escaped for card markdown
    [link] = actions_of(card, "Action.OpenUrl")
    assert f"/{root}?" in link["url"]
    buttons = card["actions"]
    assert [(b["type"], b["title"], b["verb"]) for b in buttons] == [
        ("Action.Execute", "This answers it", "deflect"),
        ("Action.Execute", "Still escalate", "escalate"),
    ]
    assert all(b["fallback"]["type"] == "Action.Submit" and b["fallback"]["data"] == b["data"] for b in buttons)
    assert buttons[0]["data"]["escalation_id"] == new.id and buttons[0]["data"]["suggestions"] == [old.id]

    # While held, status says so and what happens next.
    await teams.send("personal_message", user=SAM[0], name=SAM[1], text="status")
    status = " ".join(texts(teams.connector.calls[-1].card()))
    assert "Sam is checking similar answers first" in status
    assert "Send it to the experts at Mon 2 Mar 09:10 (UTC)" in status

    # Someone else cannot say it answered Sam's question: told on their copy only.
    response = await press(teams, EVE, buttons[0], conversation=f"a:dm-{EVE[0]}", personal=True)
    assert response["type"] == CARD
    assert response["value"]["body"][0]["color"] == "Attention"
    assert response["value"]["body"][0]["text"].startswith("Only the person who asked")
    assert len(response["value"]["actions"]) == 2
    assert (await teams.reload(new)).held

    response = await press(teams, SAM, buttons[0], conversation=f"a:dm-{SAM[0]}", personal=True)
    assert response["statusCode"] == 200 and response["type"] == CARD
    refreshed = response["value"]
    assert texts(refreshed)[0].startswith("Closed as answered")
    assert "actions" not in refreshed
    assert f"Answer: Renew the certificate. {NASTY_ESCAPED}" in texts(refreshed)  # the answer stays in view
    done = await teams.reload(new)
    assert done.status == Status.deflected and done.next_due_at is None

    await teams.runtime.dispatch()
    teams.clock.advance(timedelta(minutes=15))
    await teams.runtime.sweep()
    await teams.runtime.dispatch()
    assert posted_in(teams, CHANNEL) == []  # the experts never saw it
    assert "Nothing was sent to the experts" in " ".join(texts(teams.connector.dms_to(SAM[0])[-1].card()))


async def test_still_escalate_posts_the_channel_card(teams: Teams) -> None:
    _, new, _, card = await _held(teams)
    response = await press(teams, SAM, card["actions"][1], conversation=f"a:dm-{SAM[0]}", personal=True)
    assert response["type"] == CARD
    assert texts(response["value"])[0].startswith("Sent to the Mobile SDK experts")
    assert [a["verb"] for a in response["value"]["actions"]] == ["deflect"]
    released = await teams.reload(new)
    assert not released.held and released.status == Status.open
    await teams.runtime.dispatch()
    [post] = posted_in(teams, CHANNEL)
    assert texts(post.card())[1] == "Our iOS build fails: signing certificate expired?"


async def test_the_submit_fallback_escalates_and_refuses_privately(teams: Teams) -> None:
    _, new, _, card = await _held(teams)
    # Someone else's fallback press is refused in their 1:1 chat, not in the conversation.
    activity = payload("personal_message", **teams.values(user=EVE[0], name=EVE[1], text=""))
    activity["value"] = card["actions"][1]["fallback"]["data"]
    assert (await teams.post(activity)).status == 200
    assert "Only the person who asked" in teams.connector.dms_to(EVE[0])[-1].text()
    assert (await teams.reload(new)).held

    activity = payload("personal_message", **teams.values(user=SAM[0], name=SAM[1], text=""))
    activity["value"] = card["actions"][1]["fallback"]["data"]
    assert (await teams.post(activity)).status == 200
    await teams.runtime.dispatch()
    assert len(posted_in(teams, CHANNEL)) == 1


# ---------------------------------------------------------------- digest


async def _question(teams: Teams, text: str) -> tuple[Escalation, str]:
    # Teams sends what people typed as HTML: a literal "<at>" arrives entity-encoded.
    await teams.say(SAM, "escalate sdk " + text.replace("<", "&lt;").replace(">", "&gt;"))
    await teams.runtime.dispatch()
    esc = next(e for e in await in_community(teams) if e.question == text)
    return esc, await card_root(teams, esc)


async def test_the_digest_card_in_the_channel_claims_through_the_cards_handling(digests: Teams) -> None:
    teams = digests
    await teams.install()
    lonely, lonely_root = await _question(teams, f"Nobody answered this {NASTY}")
    held, held_root = await _question(teams, "Claimed and forgotten")
    await teams.act(ADA, "claim", held, card_message=held_root)
    waiting, waiting_root = await _question(teams, "Needs more detail")
    await teams.send("thread_reply", user=BEN[0], name=BEN[1], root=waiting_root, text="Which version?")
    done, done_root = await _question(teams, "Solved quickly")
    await teams.send("thread_reply", user=BEN[0], name=BEN[1], root=done_root, text="Use v2.")
    await teams.act(SAM, "resolve", done, personal=True, answer="Use v2.")
    await teams.runtime.dispatch()
    teams.clock.advance(timedelta(hours=5))  # Monday 14:00, digest time: Ada's claim is overdue
    teams.connector.clear()

    assert await teams.runtime.digest() == 1  # Mobile SDK; Billing has nothing to say
    assert await teams.runtime.digest() == 0  # once a day
    await teams.runtime.dispatch()
    [post] = posted_in(teams, CHANNEL)
    card = post.card()
    assert card is not None and card["version"] == "1.5"
    assert post.body["activity"]["summary"] == "Daily digest for Mobile SDK"
    shown = texts(card)
    assert shown[0] == "Daily digest for Mobile SDK, Monday 02 March"
    for heading in (
        "Unanswered, oldest first (1)",
        "Owned but overdue (1)",
        "Waiting on the requester (1)",
        "Resolved since the last digest (1)",
    ):
        assert heading in shown
    assert f"Nobody answered this {NASTY_ONE_LINE}" in shown
    assert "5h · no answer yet · asked by Sam" in shown
    assert "5h · held by Ada · asked by Sam" in shown
    assert "5h · answered by Ben" in shown
    assert shown[-1].startswith("Last 7 days: 4 opened, 1 resolved")
    claims = actions_of(card, "Action.Execute")
    assert [c["data"]["escalation_id"] for c in claims] == [lonely.id, waiting.id]  # not the owned or resolved
    assert claims[0]["data"] == {"verb": "claim", "escalation_id": lonely.id, "digest": True}
    assert claims[0]["fallback"]["type"] == "Action.Submit"

    digest_thread = post.conversation
    teams.connector.clear()
    response = await press(teams, BEN, claims[0], conversation=digest_thread)
    assert response == {"statusCode": 200, "type": MESSAGE, "value": response["value"]}
    assert response["value"].startswith(f"You claimed #{lonely.id[:8]}")
    claimed = await teams.reload(lonely)
    assert claimed.owner is not None and claimed.owner.person.id == BEN[0]
    assert claimed.owner.kind == Ownership.claimed
    await teams.runtime.dispatch()
    update = teams.connector.of("update")[-1]
    assert update.conversation == f"{CHANNEL};messageid={lonely_root}" and update.activity_id == lonely_root
    assert "Status: Claimed by Ben" in texts(update.card())
    assert posted_in(teams, CHANNEL) == []  # the digest itself is not re-posted

    # A second claim from the stale digest: a refusal for that person only, or nothing at all.
    teams.connector.clear()
    response = await press(teams, ADA, claims[0], conversation=digest_thread)
    assert response["type"] == MESSAGE and "Ben has already claimed this" in response["value"]
    response = await press(teams, BEN, claims[0], conversation=digest_thread)
    assert response["type"] == MESSAGE and response["value"].startswith("You claimed")
    stale = {**claims[0], "data": {**claims[0]["data"], "escalation_id": done.id}}
    response = await press(teams, BEN, stale, conversation=digest_thread)
    assert response["type"] == MESSAGE and "resolved" in response["value"]
    gone = {**claims[0], "data": {**claims[0]["data"], "escalation_id": "no-such-escalation"}}
    response = await press(teams, BEN, gone, conversation=digest_thread)
    assert response["type"] == MESSAGE and "does not exist" in response["value"]
    assert (await teams.reload(lonely)).version == claimed.version
    assert await teams.runtime.dispatch() == 0
    assert teams.connector.calls == []  # nothing said in the channel

    # A client without Universal Actions: the same claim; a refusal goes to the person privately.
    activity = payload("thread_reply", **teams.values(user=EVE[0], name=EVE[1], root="digest", text=""))
    activity["value"] = claims[0]["fallback"]["data"]
    assert (await teams.post(activity)).status == 200
    assert "Only Mobile SDK experts can claim" in teams.connector.dms_to(EVE[0])[-1].text()


async def test_an_empty_digest_is_one_line(digests: Teams) -> None:
    teams = digests
    await teams.install()
    teams.clock.advance(timedelta(hours=5))  # Monday 14:00
    assert await teams.runtime.digest() == 1  # Mobile SDK asks for it (digest_when_empty); Billing does not
    await teams.runtime.dispatch()
    [post] = posted_in(teams, CHANNEL)
    shown = texts(post.card())
    assert shown[1] == "Nothing open, nothing overdue, nothing resolved since the last digest."
    assert actions_of(post.card(), "Action.Execute") == []


def _digest(unanswered: int, resolved: int, question: str) -> PostDigest:
    def item(n: int, *, claimable: bool, note: str) -> DigestItem:
        return DigestItem(
            escalation_id=f"esc-{n:04d}-{'x' * 24}",
            question=f"{n}: {question}",
            requester=PersonRef(platform=Platform.teams, id=f"29:r{n}", tenant=TENANT, name=f"Req {NASTY[:8]}"),
            age=f"{n}d",
            note=note,
            claimable=claimable,
        )

    return PostDigest(
        escalation_id="digest:sdk:2026-03-02",
        channel=ChannelRef(platform=Platform.teams, id=CHANNEL, team=TEAM, tenant=TENANT),
        community_key="sdk",
        community_name=f"Mobile SDK {NASTY[:8]}",
        day=date(2026, 3, 2),
        unanswered=tuple(item(n, claimable=True, note="no answer yet") for n in range(unanswered)),
        resolved=tuple(item(n, claimable=False, note=f"answered by {NASTY}") for n in range(resolved)),
        week="Last 7 days: 100 opened, 20 resolved.",
    )


async def test_an_80_item_digest_stays_within_teams_limits(teams: Teams) -> None:
    await teams.install()
    effect = _digest(80, 20, ("[x](https://evil.example) *" * 200))
    await teams.integration.sender.deliver(effect, DeliveryContext(effect.escalation_id))
    [post] = posted_in(teams, CHANNEL)
    size = len(json.dumps(post.body).encode())
    assert size < 28 * 1024, size
    card = post.card()
    assert card is not None and len(json.dumps(card)) <= MAX_CARD_BYTES
    shown = texts(card)
    claims = actions_of(card, "Action.Execute")
    more = [t for t in shown if t.startswith("…and ")]
    assert more and int(more[0].split()[1]) + len(claims) == 80
    assert "Resolved since the last digest (20)" in shown  # later sections keep their room
    assert shown[-1] == "Last 7 days: 100 opened, 20 resolved."
    assert shown[0] == "Daily digest for Mobile SDK \\*\\*bold\\*\\*, Monday 02 March"


def test_digest_text_is_escaped() -> None:
    card = digest_card(_digest(1, 1, NASTY))
    shown = texts(card)
    assert f"0: {NASTY_ONE_LINE}" in shown
    assert f"0d · answered by {NASTY_ONE_LINE}" in shown
    assert "0d · no answer yet · asked by Req \\*\\*bold\\*\\*" in shown
    assert "<at>" not in json.dumps(card)
