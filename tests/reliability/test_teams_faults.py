"""Fault injection against the fake Bot Connector: 429 storms, 500s, resets and lost answers.

After each storm every effect has been delivered, in each escalation's order, asserted
from the fake connector's record of the calls it handled. Where the call was refused or
the connection dropped before Teams handled it (429, 500, reset), delivery is exactly once.
A call Teams handled but whose answer was lost (``timeout``) cannot be looked up: the Bot
Connector has no way to find a message by our key, so the retry posts again. That is the
documented window of doubt on Teams (RELIABILITY.md): at most one extra copy per lost
answer, never a loss.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from storage import Store
from storage.tables import OutboxRow
from tests.teams.conftest import TENANT, Teams, make_teams
from tests.teams.fakes import Call, FakeConnector, FakeLogin
from workflows.clock import FakeClock
from workflows.model import PersonRef, Platform

from .harness import drain
from .ledger import outbox_rows

SAM = PersonRef(platform=Platform.teams, id="29:sam", tenant=TENANT)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")

SCENARIOS: dict[str, dict[str, Any]] = {
    "mixed": {"rate": 0.25, "faults": ("429", "500", "reset"), "seed": 3},
    "429-storm": {"rate": 0.5, "faults": ("429",), "seed": 11},
    "lost-answers": {"rate": 0.2, "faults": ("timeout", "reset", "500"), "seed": 5},
}


@pytest.fixture
async def teams(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector):
        dispatcher = harness.runtime.dispatcher
        dispatcher.base_backoff = 0.01
        dispatcher.max_backoff = 0.05
        dispatcher.max_attempts = 60  # a storm must never exhaust a row: these tests are about retries
        dispatcher.send_timeout = 0.3  # the bot gives up on an answer after 0.3 s
        yield harness


ROW_CLASS = {"post_card": "post", "update_card": "update", "thread_reply": "thread"}


def _version(call: Call) -> int | None:
    """The card version an update carries in its buttons' data."""
    found = re.findall(r'"version": (\d+)', json.dumps(call.card() or {}))
    return int(found[0]) if found else None


def handled(connector: FakeConnector, escalations: set[str]) -> dict[str, list[tuple[str, int | None]]]:
    """Per escalation, the effects Teams handled, in the order it handled them.

    An escalation is recognised by its id in the buttons' data, or else by the thread it is in
    or links to (the card posted by a ``create`` call). Creating a 1:1 chat is no effect."""
    roots: dict[str, str] = {}
    out: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for call in connector.calls:
        if call.kind == "create" and "activity" not in call.body:
            continue
        text = json.dumps(call.body)
        ids = {m for m in _UUID.findall(text) if m in escalations}
        root = call.conversation.partition(";messageid=")[2]
        if call.kind == "create":
            klass = "post"
        elif call.kind == "update":
            klass = "update"
        elif root:
            klass = "thread"
        else:
            klass = "dm:" + call.conversation.removeprefix("a:dm-")
        if not ids:  # a thread reply, or a message whose only pointer is its link to the thread
            linked = re.findall(r"parentMessageId=(\d+)", text)
            ids = {roots[r] for r in [root, *linked] if r in roots}
        assert len(ids) == 1, f"cannot tell which escalation this {call.kind} is for: {text[:300]}"
        (escalation_id,) = ids
        if klass == "post":
            roots[root] = escalation_id
        out[escalation_id].append((klass, _version(call) if klass == "update" else None))
    return out


def expected(rows: list[OutboxRow]) -> dict[str, list[tuple[str, int | None]]]:
    out: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for row in rows:
        if row.kind == "notify" and row.payload["notice"] == "posted":
            continue  # the requester's confirmation: on Teams, the reply to the request said it (no call)
        klass = row.target if row.kind == "notify" else ROW_CLASS[row.kind]
        out[row.escalation_id].append((klass, int(row.payload["view"]["version"]) if klass == "update" else None))
    return out


async def storm(teams: Teams, clock: FakeClock, connector: FakeConnector, scenario: dict[str, Any]) -> None:
    """Eight questions in two channels, nudged, then assigned (a DM to assignee and requester),
    with the connector failing a fraction of the calls throughout."""
    await teams.install()
    runtime = teams.runtime
    connector.chaos(retry_after="0.05", hang=0.6, **scenario)
    for n in range(8):
        community = "sdk" if n % 2 else "billing"
        await runtime.service.open(requester=SAM, community_key=community, question=f"question {n} **bold** <at>x</at>")
    await drain(runtime, clock)
    clock.advance(timedelta(minutes=31))
    await runtime.sweep()
    await drain(runtime, clock)
    clock.advance(timedelta(hours=2))
    await runtime.sweep()
    await drain(runtime, clock)
    connector.chaos(0)


@pytest.mark.parametrize("name", ["mixed", "429-storm"])
async def test_after_the_storm_each_effect_is_delivered_exactly_once_in_order(
    teams: Teams, store: Store, clock: FakeClock, connector: FakeConnector, name: str
) -> None:
    # Nothing here holds an answer back, so the bot has no reason to give up on a call. With
    # the fixture's 0.3 s, a busy machine's ordinary answer could be abandoned and sent again,
    # which is the lost-answer window tested below, not a refusal.
    teams.runtime.dispatcher.send_timeout = 10.0
    await storm(teams, clock, connector, SCENARIOS[name])
    rows = await outbox_rows(store)
    assert Counter(r.kind for r in rows) == {"post_card": 8, "thread_reply": 8, "update_card": 16, "notify": 24}
    assert [r.id for r in rows if r.status != "sent"] == []
    want = expected(rows)
    assert handled(connector, set(want)) == want
    faults = Counter(connector.faults)
    assert sum(faults.values()) >= 15, faults
    if name == "429-storm":
        assert set(faults) == {"429"}


async def test_a_lost_answer_on_teams_may_double_a_message_but_never_loses_one(
    teams: Teams, store: Store, clock: FakeClock, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    """The window of doubt on Teams: the Bot Connector cannot find a message by our key, so a
    call whose answer was lost is sent again. Each effect arrives, in order, and the extra
    copies are at most the number of calls the bot gave up waiting for: the answers the fake
    held back, plus any ordinary answer that a busy machine made later than the timeout."""
    with caplog.at_level(logging.INFO, logger="escalation_bot.dispatcher"):
        await storm(teams, clock, connector, SCENARIOS["lost-answers"])
    gave_up = sum(
        1 for r in caplog.records if r.getMessage() == "delivery retry" and getattr(r, "error", "") == "timeout"
    )
    rows = await outbox_rows(store)
    assert [r.id for r in rows if r.status != "sent"] == []
    want = expected(rows)
    got = handled(connector, set(want))
    lost_answers = Counter(connector.faults)["timeout"]
    assert lost_answers >= 3, connector.faults
    assert gave_up >= lost_answers  # every held-back answer made the bot give up and retry
    extra = 0
    for escalation_id, queue in want.items():
        delivered = got[escalation_id]
        collapsed = [item for i, item in enumerate(delivered) if i == 0 or item != delivered[i - 1]]
        assert collapsed == queue, (escalation_id, delivered, queue)
        extra += len(delivered) - len(queue)
    assert 0 < extra <= gave_up, (extra, gave_up, lost_answers)


async def test_a_send_whose_connection_dropped_is_sent_again_by_the_outbox_only(
    teams: Teams, store: Store, clock: FakeClock, connector: FakeConnector
) -> None:
    """No client-level re-send on Teams either. botbuilder's connector client sends through
    msrest and requests; msrest's retry policy names POST in urllib3's ``method_whitelist``,
    which urllib3 2 no longer reads (its ``allowed_methods`` leave POST out), and
    adapters/teams/connector.py sets its retries to 0 besides. Teams handled the card and the
    connection dropped: the outbox sends it again, once (Teams cannot be asked whether it has
    it); the client adds no copy of its own."""
    await teams.install()
    await teams.runtime.service.open(requester=SAM, community_key="sdk", question="dropped?")
    connector.chaos(1.0, faults=("drop",))
    await teams.runtime.dispatch()
    connector.chaos(0)
    assert len(connector.of("create")) == 1  # handled once; no immediate re-send by the client
    clock.advance(timedelta(seconds=5))
    await drain(teams.runtime, clock)
    assert len(connector.of("create")) == 2  # the outbox's one retry: the documented window on Teams
    assert {r.status for r in await outbox_rows(store)} == {"sent"}
