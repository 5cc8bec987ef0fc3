"""Fuzzing POST /slack/events: never a 500, never a traceback, no change from an invalid request.

Examples per test (``fuzz(n)``, deterministic): garbage bodies 150, forged or unsigned 60,
wrongly shaped interactivity and events 150, buttons of a stale card 100, slash command
text 100. The answer is always 2xx (an acknowledgement, with a message to the person) or
4xx (malformed or unauthenticated). The escalations, outbox, audit and message tables are
compared before and after each invalid request.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import Store
from tests.slack.conftest import CHANNEL, SlackHarness, make_harness, payload, sign
from tests.slack.fake_slack import FakeSlack
from workflows.clock import FakeClock
from workflows.commands import Claim, Resolve
from workflows.model import PersonRef, Platform

from .fuzz_support import JSON, TEXT, fuzz, mutated, snapshot

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
ADA = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0ACME")
FORM = "application/x-www-form-urlencoded"
ACTION_IDS = [
    "claim",
    "assign",
    "resolve",
    "more",
    "accept",
    "decline",
    "reassign_to",
    "show_question",
    "deflect",
    "escalate",
    "nonexistent_action",
    "",
]


@pytest.fixture
async def slack(store: Store, clock: FakeClock, fake: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness, client = await make_harness(store, clock, fake)
    try:
        yield harness
    finally:
        await client.close()


@pytest.fixture
async def resolved(slack: SlackHarness) -> tuple[str, int, str]:
    """An escalation several versions old by now: opened, claimed, resolved. (id, version, card ts)"""
    service = slack.runtime.service
    esc = (await service.open(requester=SAM, community_key="sdk", question="old question")).escalation
    assert esc is not None
    await slack.runtime.dispatch()
    await service.handle(Claim(id="fuzz-claim", escalation_id=esc.id, actor=ADA))
    await service.handle(Resolve(id="fuzz-resolve", escalation_id=esc.id, actor=ADA, answer="the answer"))
    await slack.runtime.dispatch()
    final = await slack.escalation(esc.id)
    assert final.version >= 3
    return esc.id, final.version, await slack.card_ts(esc.id)


def acceptable(status: int, body: str) -> None:
    assert 200 <= status < 500, (status, body[:500])
    assert "Traceback" not in body and 'File "' not in body, body[:500]


async def post(slack: SlackHarness, body: bytes, content_type: str | None, headers: dict[str, str]) -> tuple[int, str]:
    all_headers = {**({"Content-Type": content_type} if content_type else {}), **headers}
    response = await slack.client.post("/slack/events", data=body, headers=all_headers)
    return response.status, await response.text()


def signed(body: bytes) -> dict[str, str]:
    return sign(body.decode("utf-8", errors="surrogateescape"))


BODIES = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=3000).map(str.encode),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.text(max_size=10), st.text(max_size=50), max_size=6).map(lambda d: urlencode(d).encode()),
    JSON.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    st.text(max_size=300).map(lambda t: urlencode({"payload": t}).encode()),
    st.sampled_from([b"{", b"payload=", b"payload=%7B", b'payload={"type":', b"\xff\xfe", b"[]", b"null", b"1"]),
)
CONTENT_TYPES = st.sampled_from([FORM, "application/json", "text/plain", "multipart/form-data", None])


@fuzz(150)
@given(body=BODIES, content_type=CONTENT_TYPES)
async def test_garbage_bodies_signed_correctly_are_acknowledged_or_refused_never_500(
    slack: SlackHarness, store: Store, body: bytes, content_type: str | None
) -> None:
    before = await snapshot(store)
    # Signed over the exact bytes only when they are text, as Slack's signature is computed.
    try:
        headers = sign(body.decode())
    except UnicodeDecodeError:
        headers = {}
    status, answer = await post(slack, body, content_type, headers)
    acceptable(status, answer)
    assert await snapshot(store) == before


@fuzz(60)
@given(
    body=BODIES,
    headers=st.one_of(
        st.just({}),
        st.builds(lambda s: {"X-Slack-Signature": s, "X-Slack-Request-Timestamp": str(int(time.time()))}, TEXT),
        st.builds(lambda t: {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": t}, TEXT),
    ),
)
async def test_forged_or_unsigned_requests_are_refused_with_4xx(
    slack: SlackHarness, store: Store, resolved: tuple[str, int, str], body: bytes, headers: dict[str, str]
) -> None:
    before = await snapshot(store)
    try:
        status, answer = await post(
            slack,
            body,
            FORM,
            {k: v.encode("utf-8", "replace").decode("latin-1", "replace") for k, v in headers.items()},
        )
    except ValueError:
        return  # a header aiohttp itself will not send (newlines): nothing reached the bot
    acceptable(status, answer)
    assert 400 <= status < 500
    assert await snapshot(store) == before


def shaped(
    kind: str, escalation_id: str, version: int, card_ts: str, response_url: str, draw: Any
) -> tuple[bytes, str]:
    """A real payload of ``kind`` aimed at the resolved escalation, with fields dropped or retyped."""
    value = json.dumps({"e": escalation_id, "v": draw(st.integers(min_value=0, max_value=version))})
    if kind == "block_actions":
        action = {
            "action_id": draw(st.sampled_from(ACTION_IDS)),
            "block_id": draw(st.sampled_from([f"esc:{escalation_id}:1:actions", "digest:x", "", "b"])),
            "value": draw(st.one_of(st.just(value), TEXT)),
            "action_ts": f"{time.time():.6f}",
            "type": "button",
        }
        data = payload(
            "block_actions",
            user=draw(st.sampled_from(["U0ADA", "U0SAM", "U0BEN"])),
            user_name="x",
            channel=CHANNEL,
            channel_name="sdk-experts",
            message_ts=card_ts,
            trigger_id="t.1",
            response_url=response_url,
            blocks=[],
            action=action,
        )
    elif kind == "view_submission":
        data = payload(
            "view_submission",
            user="U0ADA",
            user_name="ada",
            trigger_id="t.2",
            view_id="V1",
            callback_id=draw(st.sampled_from(["resolve_modal", "escalate_modal", "unknown"])),
            private_metadata=draw(st.one_of(st.just(value), TEXT)),
            values=draw(JSON),
        )
    else:
        event = payload(
            draw(st.sampled_from(["reaction_added", "message_in_thread", "message_changed", "app_home_opened"])),
            user=draw(st.sampled_from(["U0ADA", "U0SAM"])),
            reaction=draw(st.sampled_from(["eyes", "white_check_mark", "x"])),
            channel=CHANNEL,
            ts=card_ts,
            thread_ts=card_ts,
            text=draw(TEXT),
        )
        data = payload("event_callback", event=event, event_id=f"Ev{time.time_ns()}")
    data = mutated(data, draw)
    if kind == "event_callback":
        return json.dumps(data).encode(), "application/json"
    return urlencode({"payload": json.dumps(data)}).encode(), FORM


@fuzz(150)
@given(data=st.data(), kind=st.sampled_from(["block_actions", "view_submission", "event_callback"]))
async def test_wrongly_shaped_payloads_for_a_resolved_question_change_nothing(
    slack: SlackHarness, store: Store, resolved: tuple[str, int, str], data: st.DataObject, kind: str
) -> None:
    escalation_id, version, card_ts = resolved
    body, content_type = shaped(kind, escalation_id, version, card_ts, slack.fake.response_url("fuzz"), data.draw)
    before = await snapshot(store)
    status, answer = await post(slack, body, content_type, signed(body))
    acceptable(status, answer)
    after = await snapshot(store)
    assert after["escalations"] == before["escalations"]
    assert after["outbox"] == before["outbox"]
    assert after["audit"] == before["audit"]


@fuzz(100)
@given(
    action_id=st.sampled_from(ACTION_IDS),
    version=st.integers(min_value=1, max_value=3),
    user=st.sampled_from(["U0ADA", "U0SAM", "U0BEN", "U0NOBODY"]),
)
async def test_buttons_of_a_stale_card_are_answered_and_change_nothing(
    slack: SlackHarness, store: Store, resolved: tuple[str, int, str], action_id: str, version: int, user: str
) -> None:
    escalation_id, current, card_ts = resolved
    before = await snapshot(store)
    value = json.dumps({"e": escalation_id, "v": min(version, current - 1)})
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": f"esc:{escalation_id}:{version}:actions",
        "value": value,
    }
    if action_id in ("assign", "reassign_to"):
        action["selected_user"] = "U0BEN"
    reply = await slack.action(action, user=user, message_ts=card_ts, response="stale")
    acceptable(reply.status, reply.text)
    assert reply.status == 200
    assert await snapshot(store) == before


@fuzz(100)
@given(text=TEXT)
async def test_slash_command_text_of_any_kind_is_acknowledged_and_never_pings_a_channel(
    slack: SlackHarness, text: str
) -> None:
    slack.fake.clear()
    reply = await slack.command(f"sdk {text}")
    acceptable(reply.status, reply.text)
    assert reply.status == 200
    await slack.runtime.dispatch()
    for call in slack.fake.calls:
        sent = call.dump()
        for ping in ("<!channel>", "<!here>", "<!everyone>"):
            assert ping not in sent, (call.method, sent[:300])
