"""Fault injection against the fake Slack Web API: 429 storms, 500s, timeouts, resets.

After each storm every effect has been delivered exactly once (one copy of every posted
message, found by its idempotency key) and in each escalation's order, asserted from the
fake's record of the calls it handled. A timeout here means Slack DID handle the call and
the answer was lost, so the retry must find the message (metadata lookup) and not post again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from storage import Store
from tests.slack.fake_slack import FakeSlack
from workflows.clock import FakeClock
from workflows.commands import Claim
from workflows.model import PersonRef, Platform

from .harness import drain, slack_runtime
from .ledger import assert_exactly_once_in_order, outbox_rows

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
ADA = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0ACME")

SCENARIOS: dict[str, dict[str, Any]] = {
    "mixed": {"rate": 0.2, "faults": ("429", "500", "timeout", "reset"), "seed": 7},
    "429-storm": {"rate": 0.5, "faults": ("429",), "seed": 11},
    "lost-answers": {"rate": 0.3, "faults": ("timeout", "reset"), "seed": 5},
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_after_the_storm_each_effect_is_delivered_exactly_once_in_order(
    store: Store, clock: FakeClock, fake: FakeSlack, scenario: str
) -> None:
    # No inline retry in the client: every failure goes through the outbox's own retry.
    harness = await slack_runtime(store, clock, fake)
    runtime = harness.runtime
    try:
        # Retry-After scaled down to 50 ms (Slack says whole seconds) to keep the test in seconds.
        fake.chaos(retry_after="0.05", hang=0.5, **SCENARIOS[scenario])
        for n in range(8):
            community = "sdk" if n % 2 else "billing"
            await runtime.service.open(requester=SAM, community_key=community, question=f"question {n} *bold* <!here>")
        await drain(runtime, clock)
        clock.advance(timedelta(minutes=31))  # nudges (sdk) and the billing assignment
        await runtime.sweep()
        await drain(runtime, clock)
        clock.advance(timedelta(hours=2))  # assignments: a DM to the assignee and a card update
        await runtime.sweep()
        await drain(runtime, clock)
        fake.chaos(0)

        rows = await outbox_rows(store)
        assert Counter(r.kind for r in rows).keys() >= {"post_card", "thread_reply", "notify", "update_card"}
        assert_exactly_once_in_order(fake, rows)
        faults = Counter(c.status for c in fake.calls if c.status != 200)
        if scenario == "429-storm":
            assert faults[429] >= 15, faults
        else:
            assert sum(faults.values()) >= 10, faults
        if scenario != "429-storm":
            # Some answers were lost after Slack posted: the retry looked the message up instead.
            lookups = [c for c in fake.calls if c.method in ("conversations.history", "conversations.replies")]
            assert lookups, "no duplicate check happened: the storm did not hit a post"
    finally:
        await harness.close()


async def test_a_post_whose_answer_was_lost_is_found_by_its_metadata_not_posted_again(
    store: Store, clock: FakeClock, fake: FakeSlack
) -> None:
    harness = await slack_runtime(store, clock, fake)
    runtime = harness.runtime
    try:
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
        assert esc is not None
        # Every post reaches Slack, but its answer never comes back.
        fake.chaos(1.0, faults=("timeout",), hang=0.6, methods=("chat.postMessage",))
        await runtime.dispatch()
        assert len(fake.posted()) == 1  # the card is in the channel
        fake.chaos(0)
        clock.advance(timedelta(seconds=5))
        await drain(runtime, clock)
        assert [c.method for c in fake.calls if c.method == "conversations.history"] == ["conversations.history"]
        cards = [m for m in fake.posted() if m.get("metadata", {}).get("event_type") == "escalation_card"]
        assert len(cards) == 1
        async with store.unit_of_work() as uow:
            recorded = await uow.messages.for_escalation(esc.id, "card")
        assert [ref.id for _, ref, _ in recorded] == [
            cards[0]["ts"]
        ]  # the found message is recorded  # the found message is the one recorded

        # The same for a thread reply (conversations.replies) and a DM (history of the IM).
        clock.advance(timedelta(minutes=31))
        await runtime.sweep()
        fake.chaos(1.0, faults=("timeout",), hang=0.6, methods=("chat.postMessage",))
        await runtime.dispatch()
        fake.chaos(0)
        clock.advance(timedelta(seconds=5))
        await drain(runtime, clock)
        clock.advance(timedelta(hours=2))
        await runtime.sweep()
        fake.chaos(1.0, faults=("timeout",), hang=0.6, methods=("chat.postMessage",))
        await runtime.dispatch()
        fake.chaos(0)
        clock.advance(timedelta(seconds=5))
        await drain(runtime, clock)
        methods = Counter(c.method for c in fake.calls)
        assert methods["conversations.replies"] >= 1 and methods["conversations.history"] >= 2
        assert_exactly_once_in_order(fake, await outbox_rows(store))
    finally:
        await harness.close()


async def test_a_lookup_without_the_history_scope_posts_anyway(store: Store, clock: FakeClock, fake: FakeSlack) -> None:
    """The window of doubt, chosen: when Slack will not let us look, a duplicate beats a loss."""
    harness = await slack_runtime(store, clock, fake)
    runtime = harness.runtime
    try:
        await runtime.service.open(requester=SAM, community_key="sdk", question="q")
        fake.chaos(1.0, faults=("timeout",), hang=0.6, methods=("chat.postMessage",))
        await runtime.dispatch()
        fake.chaos(0)
        fake.fail("conversations.history", "missing_scope")
        clock.advance(timedelta(seconds=5))
        await drain(runtime, clock)
        cards = [m for m in fake.posted() if m.get("metadata", {}).get("event_type") == "escalation_card"]
        assert len(cards) == 2
    finally:
        await harness.close()


async def test_a_call_that_hangs_is_abandoned_after_the_send_timeout_and_retried_without_a_copy(
    store: Store, clock: FakeClock, fake: FakeSlack
) -> None:
    """Slack takes the post but answers only after our send timeout: the escalation's queue is
    not held for the lease (minutes), and the retry finds the message instead of posting again."""
    harness = await slack_runtime(store, clock, fake, api_timeout=10.0)
    runtime = harness.runtime
    runtime.dispatcher.send_timeout = 0.2
    try:
        await runtime.service.open(requester=SAM, community_key="sdk", question="q")
        fake.slow(1.0)
        await runtime.dispatch()
        rows = await outbox_rows(store)
        # The card was abandoned; the confirmation waits behind it, untried.
        assert [(r.status, (r.last_error or "").split(":")[0]) for r in rows] == [
            ("pending", "timeout"),
            ("pending", ""),
        ]
        fake.slow(0)
        clock.advance(timedelta(seconds=5))
        await drain(runtime, clock)
        cards = [m for m in fake.posted() if m.get("metadata", {}).get("event_type") == "escalation_card"]
        assert len(cards) == 1
        assert_exactly_once_in_order(fake, await outbox_rows(store))
    finally:
        await harness.close()


async def test_a_post_whose_connection_dropped_after_posting_is_posted_once(
    store: Store, clock: FakeClock, fake: FakeSlack
) -> None:
    """Slack posts the card, then the connection drops before its answer: the client must not
    re-send ``chat.postMessage`` on its own (it cannot look first); the outbox's retry looks the
    message up by its metadata and finds it. An idempotent call (``chat.update``) is still
    re-sent at once by the client, without costing the outbox a retry."""
    harness = await slack_runtime(store, clock, fake, api_timeout=5.0)
    runtime = harness.runtime
    try:
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
        assert esc is not None
        fake.chaos(1.0, faults=("drop",), methods=("chat.postMessage",))
        await runtime.dispatch()
        fake.chaos(0)
        clock.advance(timedelta(seconds=5))
        await drain(runtime, clock)
        cards = [m for m in fake.posted() if m.get("metadata", {}).get("event_type") == "escalation_card"]
        assert len(cards) == 1, [c["ts"] for c in cards]
        assert len(fake.of("conversations.history")) >= 1  # found by the lookup, not posted again
        assert_exactly_once_in_order(fake, await outbox_rows(store))

        # chat.update: dropped once, re-sent by the client at once, delivered on the first attempt.
        await runtime.service.handle(Claim(id="claim-1", escalation_id=esc.id, actor=ADA))
        fake.chaos(1.0, faults=("drop",), methods=("chat.update",))
        updates_before = len(fake.of("chat.update"))
        dispatched = asyncio.create_task(runtime.dispatch())
        while len(fake.of("chat.update")) == updates_before:  # noqa: ASYNC110 - polling the fake's record
            await asyncio.sleep(0.005)
        fake.chaos(0)  # the client's own re-send gets through
        await dispatched
        rows = await outbox_rows(store)
        update = [r for r in rows if r.kind == "update_card"][-1]
        assert (update.status, update.attempts, update.last_error) == ("sent", 1, None)  # one outbox attempt
        assert len(fake.of("chat.update")) == updates_before + 2
    finally:
        await harness.close()


async def test_each_requester_is_told_once_where_the_question_went_despite_the_storm(
    store: Store, clock: FakeClock, fake: FakeSlack
) -> None:
    """The confirmation DM is an outbox effect: 429s, 500s, dropped connections and answers
    lost after posting delay it, but each requester gets exactly one, with the card's link."""
    harness = await slack_runtime(store, clock, fake)
    runtime = harness.runtime
    requesters = [PersonRef(platform=Platform.slack, id=f"U0REQ{n:03d}", tenant="T0ACME") for n in range(16)]
    try:
        faults = ("429", "500", "drop", "timeout", "reset")
        # Half the questions in a storm over every call, half in one over the DMs alone: which
        # DMs that one hits is fixed by its seed (only DMs draw from it), however the
        # dispatcher's calls interleave, so the confirmations always meet faults.
        for storm, half in ((None, requesters[:8]), ("U", requesters[8:])):
            fake.chaos(0.35, seed=23, retry_after="0.05", hang=0.5, faults=faults, channels=storm)
            for requester in half:
                n = requesters.index(requester)
                community = "sdk" if n % 2 else "billing"
                await runtime.service.open(requester=requester, community_key=community, question=f"question {n}")
            await drain(runtime, clock)
        fake.chaos(0)

        rows = await outbox_rows(store)
        assert_exactly_once_in_order(fake, rows)
        for requester in requesters:
            dm = fake.messages.get("D" + requester.id[1:], [])
            confirmations = [m for m in dm if "Your question is posted" in str(m.get("text"))]
            assert len(confirmations) == 1, (requester.id, [m["ts"] for m in dm])
            assert "/archives/C" in str(confirmations[0]["text"])  # the link to the card
        failed = Counter(c.status for c in fake.calls if c.status != 200)
        dropped = [
            c for c in fake.calls if c.method == "chat.postMessage" and c.args.get("channel", "").startswith("U")
        ]
        # The storm over the DMs hit them in every run: with its seed the fourth DM's post is
        # reset (never posted) and so sent again, whatever the storm over every call did.
        assert failed[0] >= 1 and len(dropped) > len(requesters), (failed, len(dropped))
    finally:
        await harness.close()
