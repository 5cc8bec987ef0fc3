"""Issue 6 in Slack: /escalate search, deflection by DM, the daily digest with Claim buttons,
and status that says what happens next. Over real HTTP against the fake Slack Web API."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from adapters.slack.blocks import MAX_BLOCKS
from workflows.commands import Resolve
from workflows.delivery import DeliveryContext
from workflows.effects import DigestItem, PostDigest
from workflows.model import ChannelRef, Escalation, PersonRef, Platform, Status
from workflows.ports import Scope

from .conftest import CHANNEL, SlackHarness, payload
from .fake_slack import WORKSPACE_URL
from .test_acceptance import block_texts

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
PINGS = ("<!channel>", "<!here>", "<@U0EVIL>", "<!subteam")
EVIL = "<!channel> <!here> <@U0EVIL> <!subteam^S1> &"


def dump(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def no_pings(text: str) -> None:
    for ping in PINGS:
        assert ping not in text, ping


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every button in ``blocks`` by action id (actions blocks and section accessories)."""
    out: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                out.setdefault(element["action_id"], element)
    return out


async def newest_open(slack: SlackHarness) -> Escalation:
    [esc] = await slack.runtime.service.requested_by(SAM, Scope("slack", "T0ACME"))
    return esc


async def answered(slack: SlackHarness, question: str, answer: str, *, by: str = "U0ADA") -> Escalation:
    """A question asked with /escalate and resolved from the Resolve form, over HTTP."""
    reply = await slack.command(f"sdk {question}")
    assert reply.status == 200, reply.text
    await slack.settle()
    esc = await newest_open(slack)
    assert not esc.held, "the corpus questions must not look alike"
    values = {"answer": {"value": {"type": "plain_text_input", "value": answer}}}
    reply = await slack.submit("resolve_modal", values, user=by, private_metadata=json.dumps({"e": esc.id}))
    assert reply.status == 200, reply.text
    await slack.settle()
    done = await slack.escalation(esc.id)
    assert done.status == Status.resolved
    return done


async def card_url(slack: SlackHarness, esc: Escalation) -> str:
    ts = await slack.card_ts(esc.id)
    return f"{WORKSPACE_URL}archives/{CHANNEL}/p{ts.replace('.', '')}"


async def command_in(slack: SlackHarness, team: str, text: str, user: str) -> None:
    form = payload(
        "slash_command",
        user=user,
        user_name=user.lower(),
        text=text,
        response_url=slack.fake.response_url("other"),
        trigger_id=slack.next_id("trigger."),
    )
    form["team_id"] = team
    reply = await slack.post(urlencode(form), "application/x-www-form-urlencoded")
    assert reply.status == 200


# ---------------------------------------------------------------- search


async def test_search_returns_ranked_matches_privately_and_nothing_from_another_workspace(
    slack: SlackHarness,
) -> None:
    # Another workspace asks and answers the same thing first: it must never show in ours.
    await command_in(slack, "T0OTHER", "sdk How do we rotate signing keys on staging?", "U0ZED")
    other = PersonRef(platform=Platform.slack, id="U0ZED", tenant="T0OTHER")
    [theirs] = await slack.runtime.service.requested_by(other, Scope("slack", "T0OTHER"))
    ada_there = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0OTHER")
    await slack.runtime.service.handle(
        Resolve(
            id="r-other", escalation_id=theirs.id, actor=ada_there, answer="Their secret rotate signing keys recipe"
        )
    )
    await slack.settle()

    exact = await answered(
        slack,
        "How do I rotate the signing keys without downtime?",
        "Rotate signing keys with `sdk keys rotate --grace 1h`: old keys stay valid for an hour.",
    )
    passing = await answered(
        slack,
        "Android 15 crash on launch",
        "Update to SDK 4.2; it was a missing proguard rule. (The signing setup was fine.)",
    )
    await answered(slack, "Push notifications late on Android", "Disable battery optimisation for the app.")

    slack.fake.clear()
    reply = await slack.command("search rotate signing keys", user="U0SAM")
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    text = dump(body)
    # Best first: the answer that says it outright, before the passing mention.
    assert "sdk keys rotate --grace 1h" in text
    assert "proguard" in text and text.index("sdk keys rotate") < text.index("proguard")
    assert await card_url(slack, exact) in text
    assert "Battery" not in text and "battery" not in text
    assert "secret" not in text and "staging" not in text  # the other workspace's knowledge
    assert all(len(t) <= 3000 for t in block_texts(body))
    # Nothing was posted anywhere: the answer is the ephemeral response itself.
    assert slack.fake.posts() == []

    # "crashing" finds "crash" (stemming), and its thread link comes along.
    reply = await slack.command("search crashing", user="U0SAM")
    assert "proguard" in dump(reply.json()) and await card_url(slack, passing) in dump(reply.json())

    reply = await slack.command("search quantum entanglement", user="U0SAM")
    assert reply.json()["response_type"] == "ephemeral"
    assert "Nothing in the knowledge base matches “quantum entanglement”" in dump(reply.json())

    reply = await slack.command(f"search {EVIL} keys", user="U0SAM")
    no_pings(reply.text)

    reply = await slack.command("search", user="U0SAM")
    assert "`/escalate search &lt;words&gt;`" in reply.json()["text"]
    reply = await slack.command("help")
    assert "`/escalate search &lt;words&gt;`" in reply.json()["text"]


async def test_search_answers_are_cut_sensibly(slack: SlackHarness) -> None:
    long_answer = "Step one: open the console. " + "Then check the logs carefully. " * 200 + "FINAL-WORD"
    await answered(slack, "Where are the gateway logs kept?", long_answer)
    reply = await slack.command("search gateway logs")
    text = dump(reply.json())
    assert "Step one: open the console." in text and "…" in text and "FINAL-WORD" not in text
    assert all(len(t) <= 1200 for t in block_texts(reply.json()))


# ---------------------------------------------------------------- deflection


async def test_this_answers_it_closes_the_question_without_a_card(slack: SlackHarness) -> None:
    old = await answered(
        slack,
        "iOS build fails with a signing certificate error",
        f"Renew the certificate in the developer portal. {EVIL}",
    )
    slack.fake.clear()
    reply = await slack.command("sdk Our iOS build fails: signing certificate expired?")
    assert reply.status == 200
    text = reply.json()["text"]
    # Held: the confirmation must not say it was posted.
    assert "sent you their answers in a DM" in text and "Still escalate" in text
    assert "Escalated to" not in text and "posted" not in text
    esc = await newest_open(slack)
    assert esc.held
    await slack.settle()
    assert slack.fake.posts(CHANNEL) == []  # no card while Sam looks
    [dm] = slack.fake.posts("U0SAM")
    blocks = dm.args["blocks"]
    shown = dump(dm.args)
    assert "Renew the certificate in the developer portal." in shown
    assert "iOS build fails with a signing certificate error" in shown
    assert await card_url(slack, old) in shown  # the old question's thread
    no_pings(shown)
    assert "&lt;!channel&gt;" in shown
    assert all(len(t) <= 3000 for t in block_texts(dm.args))
    found = buttons(blocks)
    assert found["deflect"]["text"]["text"] == "This answers it"
    assert found["escalate"]["text"]["text"] == "Still escalate"

    # Status says what is going on while it is held.
    status = dump((await slack.command("status")).json())
    assert "Checking similar answers" in status and "send it to the experts in 10m" in status
    # Nor is it in the experts' digest (no card, nothing to claim yet).
    assert await slack.runtime.digest() == 1  # sdk says so even when empty; billing does not
    await slack.runtime.dispatch()
    [digest] = digest_posts(slack)
    assert "Our iOS build fails" not in dump(digest.args) and esc.id not in dump(digest.args)

    # Only Sam may say it answered his question: Ada is refused, privately.
    reply = await slack.action(
        {"action_id": "deflect", "value": found["deflect"]["value"]},
        user="U0ADA",
        channel="D0ADA",
        response="ada-deflect",
    )
    assert reply.status == 200
    [refusal] = slack.fake.of("response_url:ada-deflect")
    assert refusal.args["response_type"] == "ephemeral" and "Only the person who asked" in refusal.args["text"]

    reply = await slack.action(
        {"action_id": "deflect", "value": found["deflect"]["value"]},
        user="U0SAM",
        channel="D0SAM",
        message_ts=dm.args.get("ts", "1772442000.000009"),
        blocks=blocks,
        response="sam-dm",
    )
    assert reply.status == 200
    done = await slack.escalation(esc.id)
    assert done.status == Status.deflected and done.next_due_at is None
    [replaced] = slack.fake.of("response_url:sam-dm")
    assert replaced.args["replace_original"] is True and replaced.args["text"] == "Closed: an earlier answer solved it."
    assert all(b["type"] != "actions" for b in replaced.args["blocks"])
    await slack.settle()
    await slack.wait(hours=1)  # the release timer is gone: still no card
    assert slack.fake.posts(CHANNEL) == digest_posts(slack)
    assert await slack.runtime.service.messages(esc.id, Scope("slack", "T0ACME"), "card") == []
    assert any("Glad an earlier answer helped" in dump(c.args) for c in slack.fake.posts("U0SAM"))


async def test_still_escalate_posts_the_card(slack: SlackHarness) -> None:
    await answered(slack, "Gradle sync hangs on the corporate proxy", "Use the offline mirror at mirror.example.")
    slack.fake.clear()
    # This time from the form: its confirmation must not claim the question was posted either.
    values = {
        "community": {"value": {"type": "static_select", "selected_option": {"value": "sdk"}}},
        "question": {"value": {"type": "plain_text_input", "value": "gradle sync hangs behind our proxy"}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "normal"}}},
    }
    reply = await slack.submit("escalate_modal", values, user="U0SAM")
    notice = reply.json()
    assert notice["response_action"] == "update"
    assert "sent you their answers in a DM" in dump(notice["view"]) and "on its way" not in dump(notice["view"])
    esc = await newest_open(slack)
    assert esc.held
    await slack.settle()
    [dm] = slack.fake.posts("U0SAM")
    found = buttons(dm.args["blocks"])
    slack.fake.clear()
    reply = await slack.action(
        {"action_id": "escalate", "value": found["escalate"]["value"]},
        user="U0SAM",
        channel="D0SAM",
        blocks=dm.args["blocks"],
        response="sam-dm",
    )
    assert reply.status == 200
    released = await slack.escalation(esc.id)
    assert not released.held and released.status == Status.open
    [replaced] = slack.fake.of("response_url:sam-dm")
    assert replaced.args["text"].startswith("Sent on to the experts")
    assert all(b["type"] != "actions" for b in replaced.args["blocks"])
    await slack.settle()
    [card] = slack.fake.posts(CHANNEL, thread=False)
    assert "gradle sync hangs behind our proxy" in dump(card.args)
    assert "claim" in buttons(card.args["blocks"])
    # Sam gets the card's link, as for any posted question.
    url = await card_url(slack, esc)
    assert any(url in dump(c.args) for c in slack.fake.posts("U0SAM"))
    # Pressing it again changes nothing and is no error.
    reply = await slack.action(
        {"action_id": "escalate", "value": found["escalate"]["value"]}, user="U0SAM", channel="D0SAM"
    )
    assert reply.status == 200 and (await slack.escalation(esc.id)).version == released.version


# ---------------------------------------------------------------- the daily digest


def digest_posts(slack: SlackHarness) -> list[Any]:
    return [
        c for c in slack.fake.posts(CHANNEL) if (c.args.get("metadata") or {}).get("event_type") == "escalation_digest"
    ]


async def test_digest_in_the_channel_and_claim_from_it(slack: SlackHarness) -> None:
    solved = await answered(slack, "Where are the gateway logs kept?", "In /var/log/gateway, rotated daily.")
    await slack.command("sdk Why does the build fail on arm64?")
    await slack.settle()
    waiting = await newest_open(slack)
    await slack.action({"action_id": "claim", "value": slack.value(waiting)}, user="U0CHEN")
    await slack.command(f"sdk Can we ship bitcode again? {EVIL}")
    await slack.settle()
    opens = await slack.runtime.service.requested_by(SAM, Scope("slack", "T0ACME"))
    unclaimed = next(e for e in opens if e.owner is None)
    await slack.wait(minutes=5)
    slack.fake.clear()

    assert await slack.runtime.digest() == 1  # sdk; billing has nothing to say
    await slack.runtime.dispatch()
    [digest] = digest_posts(slack)
    blocks = digest.args["blocks"]
    text = dump(digest.args)
    assert "Daily digest · Mobile SDK" in text and "Monday 02 March" in text
    assert "Unanswered, oldest first" in text and "Can we ship bitcode again?" in text
    assert "Resolved since the last digest" in text and "answered by Ada" in text
    assert "Last 7 days:" in text
    assert await card_url(slack, unclaimed) in text and await card_url(slack, solved) in text
    no_pings(text)
    assert "&lt;!channel&gt;" in text and "arm64" not in text  # claimed and not overdue: not listed
    no_pings(digest.args["text"])
    # One Claim button, on the unclaimed question; none on the claimed or resolved ones.
    claims = [b for b in blocks if (b.get("accessory") or {}).get("action_id") == "claim"]
    assert len(claims) == 1 and unclaimed.id in claims[0]["accessory"]["value"]

    card_ts = await slack.card_ts(unclaimed.id)
    slack.fake.clear()
    reply = await slack.action(
        {"action_id": "claim", "block_id": claims[0]["block_id"], "value": claims[0]["accessory"]["value"]},
        user="U0BEN",
        message_ts=digest.args.get("ts", "1772442000.000099"),
        blocks=blocks,
        response="ben-digest",
    )
    assert reply.status == 200
    claimed = await slack.escalation(unclaimed.id)
    assert claimed.owner is not None and claimed.owner.person.id == "U0BEN"
    [told] = slack.fake.of("response_url:ben-digest")
    assert told.args["response_type"] == "ephemeral" and "You claimed" in told.args["text"]
    await slack.settle()
    [update] = slack.fake.of("chat.update")
    assert update.args["ts"] == card_ts and "Claimed by <@U0BEN>" in dump(update.args)

    # The digest still shows the button: a late claim is refused privately, nothing changes.
    slack.fake.clear()
    reply = await slack.action(
        {"action_id": "claim", "block_id": claims[0]["block_id"], "value": claims[0]["accessory"]["value"]},
        user="U0CHEN",
        response="chen-digest",
    )
    assert reply.status == 200
    [refusal] = slack.fake.of("response_url:chen-digest")
    assert refusal.args["response_type"] == "ephemeral" and "already claimed" in refusal.args["text"]
    assert (await slack.escalation(unclaimed.id)).version == claimed.version
    # Pressed by the one who holds it: no change, no error.
    reply = await slack.action(
        {"action_id": "claim", "block_id": claims[0]["block_id"], "value": claims[0]["accessory"]["value"]},
        user="U0BEN",
    )
    assert reply.status == 200 and (await slack.escalation(unclaimed.id)).version == claimed.version
    # A digest item for a question that no longer exists here: refused, never a 500.
    reply = await slack.action(
        {"action_id": "claim", "block_id": "digest:unanswered:nope", "value": json.dumps({"e": "nope"})},
        user="U0BEN",
        response="gone",
    )
    assert reply.status == 200 and "does not exist" in slack.fake.of("response_url:gone")[0].args["text"]
    # Exactly one digest a day.
    assert await slack.runtime.digest() == 0


async def test_a_quiet_day_says_so_in_one_line(slack: SlackHarness) -> None:
    assert await slack.runtime.digest() == 1  # sdk; billing has nothing to say
    await slack.runtime.dispatch()
    [digest] = digest_posts(slack)
    text = dump(digest.args["blocks"])
    assert "Nothing open, nothing overdue, nothing resolved since the last digest." in text
    assert len(digest.args["blocks"]) <= 3


async def test_a_digest_with_eighty_questions_stays_within_block_kit_limits(slack: SlackHarness) -> None:
    topics = ["keys", "push", "gradle", "crash", "login", "billing", "proxy", "cache", "sync", "fonts"]
    for n in range(80):
        question = f"{EVIL} {topics[n % 10]} variant {n}: " + ("long words " * 60)
        # Eighty different people: each one's App Home lists one question, as in real life.
        requester = SAM.model_copy(update={"id": f"U0R{n:03d}"})
        await slack.runtime.service.open(requester=requester, community_key="sdk", question=question)
    assert await slack.runtime.digest() == 1  # sdk; billing has nothing to say
    await slack.runtime.dispatch()
    [digest] = digest_posts(slack)
    blocks = digest.args["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= 3000 for t in block_texts(digest.args))
    text = dump(digest.args)
    shown = sum(1 for b in blocks if (b.get("accessory") or {}).get("action_id") == "claim")
    assert shown > 30
    assert f"…and {80 - shown} more" in text
    assert "Unanswered, oldest first* (80)" in text
    no_pings(text)
    assert len({b["block_id"] for b in blocks}) == len(blocks)


async def test_digest_groups_share_the_room_when_all_are_long(slack: SlackHarness) -> None:
    """Rendered by the Sender and sent to the fake Web API: every group shows its oldest items."""

    def items(prefix: str, count: int, claimable: bool) -> tuple[DigestItem, ...]:
        return tuple(
            DigestItem(
                escalation_id=f"{prefix}{n:03d}",
                question=f"{prefix} question {n} {EVIL} " + "x" * 4000,
                requester=SAM.model_copy(update={"name": f"<!channel> sam {n}"}),
                age=f"{n}h",
                note=f"held by <@U0EVIL> {n}",
                claimable=claimable,
            )
            for n in range(count)
        )

    effect = PostDigest(
        escalation_id="digest:sdk:2026-03-02",
        channel=ChannelRef(platform=Platform.slack, id=CHANNEL, tenant="T0ACME"),
        community_key="sdk",
        community_name="Mobile <!here> SDK",
        day=date(2026, 3, 2),
        unanswered=items("u", 80, True),
        overdue=items("o", 30, False),
        waiting=items("w", 20, True),
        resolved=items("r", 60, False),
        week="Last 7 days: 190 opened <!channel>.",
    )
    await slack.platform.sender.deliver(effect, DeliveryContext(effect.escalation_id, [], "digest-test"))
    [digest] = digest_posts(slack)
    blocks = digest.args["blocks"]
    assert len(blocks) == MAX_BLOCKS
    assert all(len(t) <= 3000 for t in block_texts(digest.args))
    text = dump(digest.args)
    no_pings(text)
    for prefix, title, total in (
        ("u", "Unanswered", 80),
        ("o", "Owned but overdue", 30),
        ("w", "Waiting on the requester", 20),
        ("r", "Resolved since", 60),
    ):
        ids = [
            b["block_id"]
            for b in blocks
            if b.get("block_id", "").endswith(tuple(f":{prefix}{n:03d}" for n in range(total)))
        ]
        assert ids and ids[0].endswith(f"{prefix}000"), title  # oldest first
        assert f"…and {total - len(ids)} more" in text, title
    assert "Last 7 days: 190 opened &lt;!channel&gt;." in text
    claims = [b for b in blocks if (b.get("accessory") or {}).get("action_id") == "claim"]
    assert claims and all(b["block_id"].split(":")[-1][0] in "uw" for b in claims)


# ---------------------------------------------------------------- status everywhere


async def test_status_and_home_show_owner_and_what_happens_next(slack: SlackHarness) -> None:
    await slack.command("sdk Is the arm64 build supported?")
    await slack.settle()
    esc = await newest_open(slack)
    await slack.action({"action_id": "claim", "value": slack.value(esc)}, user="U0ADA")
    status = dump((await slack.command("status")).json())
    assert "owner <@U0ADA>" in status and "remind the owner in 4h" in status
    slack.fake.clear()
    await slack.event("app_home_opened", user="U0SAM")
    [home] = slack.fake.of("views.publish", user_id="U0SAM")
    text = dump(home.args["view"])
    assert "owner <@U0ADA>" in text and "remind the owner in 4h" in text
