"""Outbound to the Bot Connector: retries with Retry-After, the service URL allow-list, and
what happens when the bot can no longer write somewhere."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.teams import DEFAULT_SERVICE_URL_ALLOWLIST, ServiceUrlAllowlist
from workflows.model import PersonRef, Platform

from .conftest import ADA, BEN, CHANNEL, SAM, TEAM, TENANT, Teams


async def _open(teams: Teams) -> None:
    await teams.install()
    await teams.say(SAM, "escalate sdk Which region is the data in?")


async def _outbox(teams: Teams, status: str) -> list[object]:
    async with teams.runtime.store.unit_of_work() as uow:
        return list(await uow.outbox.list(status))


async def test_429_is_retried_no_sooner_than_retry_after(teams: Teams) -> None:
    await _open(teams)
    teams.connector.fail_next(1, status=429, retry_after="2")
    assert await teams.runtime.dispatch() == 0
    row, _confirmation = await _outbox(teams, "pending")  # the confirmation waits behind its card
    assert row.attempts == 1 and "http_429" in (row.last_error or "")  # type: ignore[attr-defined]
    assert row.next_attempt_at >= teams.clock.now() + timedelta(seconds=2)  # type: ignore[attr-defined]
    assert await teams.runtime.dispatch() == 0  # not yet due
    teams.clock.advance(timedelta(seconds=3))
    assert await teams.runtime.dispatch() == 2  # the card, then the requester's confirmation
    assert len(teams.connector.of("create")) == 1


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_transient_statuses_are_retried(teams: Teams, status: int) -> None:
    await _open(teams)
    teams.connector.fail_next(1, status=status, retry_after=None)
    assert await teams.runtime.dispatch() == 0
    row, _confirmation = await _outbox(teams, "pending")
    assert row.attempts == 1 and f"http_{status}" in (row.last_error or "")  # type: ignore[attr-defined]


async def test_a_proactive_send_outside_the_allowlist_is_refused(teams: Teams) -> None:
    # The team's stored reference points somewhere that is not Microsoft's Bot Connector.
    tokens_before = len(teams.login.token_requests)
    await teams.conversations.save_conversation(
        conversation_id=TEAM,
        kind="channel",
        tenant=TENANT,
        service_url="https://smba.trafficmanager.net.evil.example/amer/",
        team_id=TEAM,
        channel_id=TEAM,
        user_id=None,
        bot_id="28:bot",
        reference={},
    )
    sam = PersonRef(platform=Platform.teams, id=SAM[0], tenant=TENANT, name=SAM[1])
    await teams.runtime.service.open(requester=sam, community_key="sdk", question="Where is my token going?")
    # Nothing reached Teams: the one effect "sent" is the requester's confirmation, which Teams
    # already showed in its reply to the request (no call).
    assert await teams.runtime.dispatch() == 1
    failed = await _outbox(teams, "failed")
    # The card, and the notices the core sends about a delivery lost for good: all refused.
    assert failed[0].kind == "post_card"  # type: ignore[attr-defined]
    assert all("service_url_not_allowed" in (r.last_error or "") for r in failed)  # type: ignore[attr-defined]
    assert teams.connector.calls == [] and len(teams.login.token_requests) == tokens_before


def test_the_default_allowlist_is_microsofts_clouds_only() -> None:
    allow = ServiceUrlAllowlist(DEFAULT_SERVICE_URL_ALLOWLIST)
    assert allow.allows("https://smba.trafficmanager.net/amer/")
    assert allow.allows("https://smba.trafficmanager.net/teams/")
    assert allow.allows("https://smba.infra.gcc.teams.microsoft.com/gcc/")
    assert allow.allows("https://smba.infra.gov.teams.microsoft.us/teams")
    assert allow.allows("https://smba.infra.dod.teams.microsoft.us/dod/")
    for bad in (
        "http://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net.evil.example/amer/",
        "https://evil.example/smba.trafficmanager.net/",
        "https://user@smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net:8443/amer/",
        "",
        None,
    ):
        assert not allow.allows(bad), bad
    local = ServiceUrlAllowlist(("http://127.0.0.1:4000/",))
    assert local.allows("http://127.0.0.1:4000/v3") and not local.allows("http://127.0.0.1:4001/")


async def test_a_blocked_1to1_chat_falls_back_to_the_channel_thread(teams: Teams) -> None:
    await _open(teams)
    await teams.send("install_personal", user=ADA[0], name=ADA[1])
    await teams.runtime.dispatch()
    esc = await teams.only_escalation()
    root = teams.connector.of("create")[-1].conversation
    teams.connector.block(f"a:dm-{ADA[0]}", status=403, code="MessageWritesBlocked")

    await teams.act(BEN, "assign", esc, card_message=root, assignee=f"teams||{ADA[0]}|Ada")
    await teams.runtime.dispatch()
    fallback = [c for c in teams.connector.in_conversation(root) if c.kind == "send"][-1]
    assert "<at>Ada</at>" in fallback.text() and "assigned you a question" in fallback.text()
    assert [e["mentioned"]["id"] for e in fallback.body["entities"]] == [ADA[0]]
    assert await _outbox(teams, "failed") == []
    stored = await teams.conversations.personal_conversation(TENANT, ADA[0])
    assert stored is not None and stored.unreachable


async def test_a_vanished_conversation_fails_permanently_not_forever(teams: Teams) -> None:
    await _open(teams)
    await teams.runtime.dispatch()
    esc = await teams.only_escalation()
    thread = teams.connector.of("create")[-1].conversation
    teams.connector.block(thread, status=404, code="ConversationNotFound")
    await teams.act(ADA, "claim", esc, card_message=thread)
    await teams.runtime.dispatch()
    failed = await _outbox(teams, "failed")
    assert [r.kind for r in failed] == ["update_card"]  # type: ignore[attr-defined]
    assert "ConversationNotFound" in (failed[0].last_error or "")  # type: ignore[attr-defined]
    assert CHANNEL in thread


async def test_a_private_message_links_to_the_questions_thread(teams: Teams) -> None:
    await _open(teams)
    await teams.send("install_personal", user=ADA[0], name=ADA[1])
    await teams.runtime.dispatch()
    esc = await teams.only_escalation()
    root = teams.connector.of("create")[-1].conversation
    await teams.act(BEN, "assign", esc, card_message=root, assignee=f"teams||{ADA[0]}|Ada")
    await teams.runtime.dispatch()
    card = teams.connector.dms_to(ADA[0])[-1].card() or {}
    links = [a for a in card.get("actions", []) if a.get("type") == "Action.OpenUrl"]
    message_id = root.partition(";messageid=")[2]
    assert [a["title"] for a in links] == ["Open the thread"]
    url = links[0]["url"]
    assert url.startswith(f"https://teams.microsoft.com/l/message/{CHANNEL.replace(':', '%3A').replace('@', '%40')}/")
    assert f"parentMessageId={message_id}" in url and f"tenantId={TENANT}" in url


async def test_one_connector_client_per_service_url_is_reused_and_closed(teams: Teams) -> None:
    connector = teams.integration.connector
    first = await connector.client(teams.service_url)
    assert await connector.client(teams.service_url) is first
    await _open(teams)
    await teams.runtime.dispatch()
    assert await connector.client(teams.service_url) is first
    await connector.close()
    assert await connector.client(teams.service_url) is not first


def test_the_emulator_entry_allows_any_port_on_that_host_only() -> None:
    """docs/teams.md: the Emulator serves on a port it picks at each start."""
    allow = ServiceUrlAllowlist(["http://localhost:*/"])
    assert allow.allows("http://localhost:53987/") and allow.allows("http://localhost:61002/v3/conversations")
    assert allow.allows("http://localhost/")
    for bad in ("https://localhost:53987/", "http://127.0.0.1:53987/", "http://localhost.evil.example:80/"):
        assert not allow.allows(bad), bad
    assert not ServiceUrlAllowlist(["http://localhost:3978/"]).allows("http://localhost:53987/")
