"""Fuzzing POST /api/messages (Teams, authentication off as for the Emulator).

Examples per test (``fuzz(n)``, deterministic): garbage bodies 150, wrongly shaped
Activities 150, card buttons of a stale card 100. The answer is always 2xx or 4xx, never
a 500 or a traceback, and an invalid request changes no escalation, outbox or audit row.
The 5xx answers fuzzing found in botbuilder (an activity without a conversation or
recipient, an invoke without a name or an object value, a service URL with braces) are
refused with a 400 by the endpoint now; each is pinned below as a regression test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import Store
from tests.teams.conftest import CHANNEL, TENANT, Teams, make_teams, payload
from tests.teams.fakes import FakeConnector, FakeLogin
from workflows.clock import FakeClock
from workflows.commands import Claim, Resolve
from workflows.model import PersonRef, Platform

from .fuzz_support import JSON, TEXT, fuzz, mutated, snapshot

SAM = PersonRef(platform=Platform.teams, id="29:sam", tenant=TENANT)
ADA = PersonRef(platform=Platform.teams, id="29:ada", tenant=TENANT)
VERBS = [
    "claim",
    "assign",
    "resolve",
    "reassign",
    "cancel",
    "accept",
    "decline",
    "deflect",
    "escalate",
    "open",
    "refresh",
    "digest",
    "no-such-verb",
    "",
]
KINDS = [
    "card_action",
    "channel_mention",
    "personal_message",
    "reaction",
    "thread_reply",
    "extension_fetch_task",
    "extension_submit_action",
]


@pytest.fixture
async def emulator(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, auth=False):
        yield harness


@pytest.fixture
async def resolved(emulator: Teams) -> tuple[str, int]:
    """An escalation several versions old by now: opened, claimed, resolved."""
    service = emulator.runtime.service
    esc = (await service.open(requester=SAM, community_key="sdk", question="old question")).escalation
    assert esc is not None
    await service.handle(Claim(id="fuzz-claim", escalation_id=esc.id, actor=ADA))
    await service.handle(Resolve(id="fuzz-resolve", escalation_id=esc.id, actor=ADA, answer="the answer"))
    final = await emulator.reload(esc)
    assert final.version >= 3
    return esc.id, final.version


def acceptable(status: int, body: str) -> None:
    assert 200 <= status < 500, (status, body[:500])
    assert "Traceback" not in body and 'File "' not in body, body[:500]


async def post_raw(emulator: Teams, body: bytes, content_type: str | None) -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await emulator.client.post("/api/messages", data=body, headers=headers)
    return response.status, await response.text()


BODIES = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=3000).map(str.encode),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"{", b"[]", b"null", b"1", b'{"type": 1}', b'{"type": "message"}', b"\xff\xfe"]),
)


@fuzz(150)
@given(body=BODIES, content_type=st.sampled_from(["application/json", "text/plain", None]))
async def test_garbage_bodies_are_refused_or_acknowledged_never_500(
    emulator: Teams, store: Store, body: bytes, content_type: str | None
) -> None:
    before = await snapshot(store)
    status, answer = await post_raw(emulator, body, content_type)
    acceptable(status, answer)
    assert await snapshot(store) == before


@fuzz(150)
@given(data=st.data(), kind=st.sampled_from(KINDS))
async def test_wrongly_shaped_activities_change_no_escalation(
    emulator: Teams, store: Store, resolved: tuple[str, int], data: st.DataObject, kind: str
) -> None:
    escalation_id, version = resolved
    draw = data.draw
    card_data = {"verb": draw(st.sampled_from(VERBS)), "escalation_id": escalation_id, "version": version - 1}
    activity = payload(
        kind,
        **emulator.values(
            user=draw(st.sampled_from(["29:ada", "29:sam", "29:eve"])),
            name=draw(TEXT),
            text=draw(TEXT),
            verb=card_data["verb"],
            data=draw(st.one_of(st.just(card_data), JSON)),
            conversation=f"{CHANNEL};messageid=1",
            conversation_type="channel",
            message="1",
            reaction=draw(st.sampled_from(["like", "heart", "x"])),
        ),
    )
    activity = mutated(activity, draw)
    before = await snapshot(store)
    response = await emulator.client.post("/api/messages", json=activity)
    acceptable(response.status, await response.text())
    after = await snapshot(store)
    assert (after["escalations"], after["outbox"], after["audit"]) == (
        before["escalations"],
        before["outbox"],
        before["audit"],
    )


@fuzz(100)
@given(
    verb=st.sampled_from(VERBS),
    version=st.integers(min_value=0, max_value=3),
    user=st.sampled_from(["29:ada", "29:sam", "29:ben", "29:nobody"]),
    inputs=st.dictionaries(st.sampled_from(["assignee", "answer", "to", "comment"]), JSON, max_size=2),
)
async def test_buttons_of_a_stale_card_are_answered_and_change_nothing(
    emulator: Teams,
    store: Store,
    resolved: tuple[str, int],
    verb: str,
    version: int,
    user: str,
    inputs: dict[str, Any],
) -> None:
    escalation_id, current = resolved
    data = {"verb": verb, "escalation_id": escalation_id, "version": min(version, current - 1), **inputs}
    activity = payload(
        "card_action",
        **emulator.values(
            user=user,
            name="Someone",
            verb=verb,
            data=data,
            conversation=f"{CHANNEL};messageid=1",
            conversation_type="channel",
            message="1",
        ),
    )
    before = await snapshot(store)
    response = await emulator.client.post("/api/messages", json=activity)
    acceptable(response.status, await response.text())
    assert response.status == 200
    assert await snapshot(store) == before


def _card_action(emulator: Teams, escalation_id: str, version: int) -> dict[str, Any]:
    data = {"verb": "claim", "escalation_id": escalation_id, "version": version}
    return payload(
        "card_action",
        **emulator.values(
            user="29:ada",
            name="Ada",
            verb="claim",
            data=data,
            conversation=f"{CHANNEL};messageid=1",
            conversation_type="channel",
            message="1",
        ),
    )


@pytest.mark.parametrize("value", ["a string", None, {"action": "a string"}], ids=["string", "null", "action-string"])
async def test_a_card_action_whose_value_is_not_an_object_is_refused_with_400(
    emulator: Teams, resolved: tuple[str, int], value: Any
) -> None:
    activity = _card_action(emulator, *resolved)
    activity["value"] = value
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in await response.text()


async def test_an_invoke_without_a_name_is_refused_with_400(emulator: Teams, resolved: tuple[str, int]) -> None:
    activity = _card_action(emulator, *resolved)
    del activity["name"]
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in await response.text()


async def test_a_message_without_a_conversation_is_refused_with_400(emulator: Teams) -> None:
    activity = payload("personal_message", **emulator.values(user="29:ada", name="Ada", text="status"))
    activity["conversation"] = None
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in await response.text()


async def test_a_message_extension_submit_without_a_value_is_refused_with_400(emulator: Teams) -> None:
    activity = payload("extension_submit_action", **emulator.values(user="29:ada", name="Ada", message="1"))
    activity.pop("value", None)
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in await response.text()


async def test_a_message_without_a_recipient_is_refused_with_400(emulator: Teams) -> None:
    activity = payload("channel_mention", **emulator.values(user="29:ada", name="Ada", text="status"))
    del activity["recipient"]
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in await response.text()


async def test_a_service_url_with_braces_is_refused_with_400(emulator: Teams) -> None:
    activity = payload("channel_mention", **emulator.values(user="29:ada", name="Ada", text="status"))
    activity["serviceUrl"] = emulator.service_url + "/{x}"
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400, await response.text()
    assert "malformed activity" in await response.text()


async def test_an_invoke_this_bot_does_not_handle_is_refused_with_400_not_501(emulator: Teams) -> None:
    activity = payload("extension_fetch_task", **emulator.values(user="29:ada", name="Ada", message="1"))
    activity["name"] = "signin/verifyState"
    activity["value"] = {"state": "1234"}
    response = await emulator.client.post("/api/messages", json=activity)
    assert response.status == 400
    assert "unsupported invoke: signin/verifyState" in await response.text()
