"""Every inbound request is a JWT that botbuilder validates against keys served locally:
issuer, audience, signature, expiry and the serviceUrl claim. Bad tokens get 401, never 500."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.teams.reuse import _Kept
from storage import Store
from workflows.clock import FakeClock

from .conftest import SAM, Teams, make_teams, payload
from .fakes import FakeConnector, FakeLogin


def _help(teams: Teams) -> dict[str, Any]:
    return payload("personal_message", **teams.values(user=SAM[0], name=SAM[1], text="help"))


async def test_a_valid_token_is_accepted_and_the_bot_answers_with_its_own_token(teams: Teams) -> None:
    activity = _help(teams)
    response = await teams.post(activity, token=teams.login.token(teams.service_url))
    assert response.status == 200, await response.text()
    [answer] = teams.connector.calls
    assert "escalate" in answer.text()
    assert answer.authorization == "Bearer fake-bot-access-token"
    assert teams.login.token_requests[-1]["client_id"] == [teams.integration.config.app_id]


def _bad_tokens(login: FakeLogin, service_url: str) -> dict[str, str]:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    valid = login.token(service_url)
    header, _claims, signature = valid.split(".")
    forged_claims = login.token(service_url, aud="someone-else").split(".")[1]
    return {
        "wrong audience": login.token(service_url, aud="00000000-0000-0000-0000-000000000000"),
        "wrong issuer": login.token(service_url, iss="https://login.example.com/"),
        "expired": login.token(service_url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
        "tampered": f"{header}.{forged_claims}.{signature}",
        "other key": login.token(service_url, key=stranger),
        "unknown key id": login.token(service_url, key=stranger, kid="not-published"),
        "service url mismatch": login.token("https://smba.trafficmanager.net/emea/"),
        "no service url claim": login.token(service_url, serviceurl=None),
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong audience",
        "wrong issuer",
        "expired",
        "tampered",
        "other key",
        "unknown key id",
        "service url mismatch",
        "no service url claim",
        "garbage",
    ],
)
async def test_bad_tokens_are_rejected(teams: Teams, case: str) -> None:
    token = _bad_tokens(teams.login, teams.service_url)[case]
    response = await teams.post(_help(teams), token=token)
    assert response.status in (401, 403), (case, response.status, await response.text())
    assert teams.connector.calls == []
    async with teams.runtime.store.unit_of_work() as uow:
        assert not await uow.inbound.seen("teams", "anything")


async def test_a_missing_authorization_header_is_rejected(teams: Teams) -> None:
    response = await teams.client.post("/api/messages", json=_help(teams))
    assert response.status == 401


async def test_a_bad_token_cannot_open_an_escalation(teams: Teams) -> None:
    activity = payload("channel_mention", **teams.values(user=SAM[0], name=SAM[1], text="escalate sdk help me"))
    response = await teams.post(activity, token=teams.login.token(teams.service_url, aud="nope"))
    assert response.status == 401
    async with teams.runtime.store.unit_of_work() as uow:
        assert await uow.escalations.list_by_community("sdk") == []


async def test_a_signed_request_from_a_service_url_off_the_allowlist_is_refused(teams: Teams) -> None:
    outside = "https://smba.example.net/amer/"
    activity = payload("personal_message", **teams.values(user=SAM[0], name=SAM[1], text="help", service_url=outside))
    response = await teams.post(activity, token=teams.login.token(outside))
    assert response.status == 403
    assert teams.connector.calls == []


async def test_not_json_or_not_an_activity_is_a_client_error(teams: Teams) -> None:
    response = await teams.client.post("/api/messages", data="x", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    response = await teams.client.post("/api/messages", data="{", headers={"Content-Type": "application/json"})
    assert response.status == 400


@pytest.fixture
async def emulator(store: Store, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> AsyncIterator[Teams]:
    async for harness in make_teams(store, clock, login, connector, auth=False):
        yield harness


async def test_without_an_app_id_authentication_is_off_for_the_emulator(
    emulator: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    response = await emulator.post(_help(emulator))
    assert response.status == 200
    [answer] = emulator.connector.calls
    assert answer.authorization is None  # no token is ever sent when there are no credentials
    warnings = [r.getMessage() for r in caplog.get_records("setup") if r.levelname == "WARNING"]
    assert any("TEAMS AUTHENTICATION IS OFF" in w for w in warnings)


async def test_replies_reuse_one_connector_client_per_service_url(teams: Teams) -> None:
    """botbuilder would build a Bot Connector client and a user-token client for every
    activity; they are kept, so many turns in one conversation build one of each."""
    auth = teams.integration.auth
    await teams.install()
    for _ in range(5):
        await teams.say(SAM, "help")
    replies = [call for call in teams.connector.calls if "escalate" in (call.text() or "")]
    assert len(replies) == 5  # every turn still answered, through the kept client
    assert len(auth._connectors.items) == 1
    assert len(auth._token_clients.items) == 1
    (kept,) = auth._connectors.items.values()
    assert str(kept.config.base_url).rstrip("/") == teams.service_url.rstrip("/")


def test_kept_clients_are_bounded_least_recently_used_first() -> None:
    kept = _Kept(2)
    kept.put(("a",), 1)
    kept.put(("b",), 2)
    assert kept.get(("a",)) == 1  # a is now the most recent
    kept.put(("c",), 3)
    assert list(kept.items) == [("a",), ("c",)]
