"""Verification, acknowledgement and robustness of the one Slack endpoint."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from .conftest import SlackHarness, payload, sign


async def test_forged_signature_is_rejected(slack: SlackHarness) -> None:
    form = urlencode(payload("slash_command", user="U0SAM", text="sdk hi", trigger_id="t.1"))
    headers = sign(form, secret="not-the-signing-secret")
    reply = await slack.post(form, "application/x-www-form-urlencoded", headers=headers, signed=False)
    assert reply.status == 401
    assert await slack.runtime.service.requested_by(_sam(), _scope()) == []


async def test_stale_timestamp_is_rejected(slack: SlackHarness) -> None:
    form = urlencode(payload("slash_command", user="U0SAM", text="sdk hi", trigger_id="t.1"))
    headers = sign(form, timestamp=int(time.time()) - 10 * 60)  # correctly signed, ten minutes old
    reply = await slack.post(form, "application/x-www-form-urlencoded", headers=headers, signed=False)
    assert reply.status == 401
    assert await slack.runtime.service.requested_by(_sam(), _scope()) == []


async def test_unsigned_request_is_rejected(slack: SlackHarness) -> None:
    reply = await slack.post(json.dumps({"type": "event_callback"}), "application/json", signed=False)
    assert reply.status == 401


async def test_url_verification_challenge(slack: SlackHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    reply = await slack.post(body, "application/json")
    assert reply.status == 200
    assert "abc123" in reply.text


async def test_malformed_payloads_are_acknowledged_not_500(slack: SlackHarness) -> None:
    reply = await slack.post(urlencode({"payload": "{not json"}), "application/x-www-form-urlencoded")
    assert reply.status == 200
    reply = await slack.interactive({"type": "block_actions", "actions": [{"action_id": "claim", "value": "junk"}]})
    assert reply.status == 200
    reply = await slack.interactive({"type": "something_new", "team": {"id": "T0ACME"}})
    assert reply.status == 200
    reply = await slack.event("reaction_added", user="U0ADA", reaction="eyes", channel="C0NOPE", ts="1.2")
    assert reply.status == 200


def _sam():  # type: ignore[no-untyped-def]
    from workflows.model import PersonRef, Platform

    return PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")


def _scope():  # type: ignore[no-untyped-def]
    from workflows.ports import Scope

    return Scope("slack", "T0ACME")
