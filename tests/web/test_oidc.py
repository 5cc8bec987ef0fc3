"""Sign-in with Slack and with Microsoft Entra ID through a provider on loopback that signs
real JWTs; forged or foreign id tokens get nobody in."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from yarl import URL

from adapters.web import OidcProvider
from adapters.web.session import SIGNIN_COOKIE, sign, unsign
from storage import Store
from workflows.clock import FakeClock

from .conftest import ACME, TENANT, Console, console_config, make_console
from .fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider

SLACK_CLAIMS = {"https://slack.com/user_id": "U0ADMIN", "https://slack.com/team_id": ACME, "name": "Alex Admin"}
ENTRA_CLAIMS = {"oid": "entra-admin", "tid": TENANT, "name": "Erin Entra"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SignIn:
    web: Console
    slack: FakeProvider
    entra: FakeProvider
    url: str

    async def through(self, provider: str, *, next_path: str = "/console/escalations") -> Any:
        """What a browser does: start, follow the provider's redirect, land on the callback."""
        return await self.web.client.get(f"/console/signin/{provider}?next={next_path}")


@pytest.fixture
async def signin(store: Store, clock: FakeClock) -> AsyncIterator[SignIn]:
    slack = FakeProvider(claims=dict(SLACK_CLAIMS), clock=lambda: clock.now().timestamp())
    entra = FakeProvider(path=f"/{TENANT}/v2.0", claims=dict(ENTRA_CLAIMS), clock=lambda: clock.now().timestamp())
    await slack.start()
    await entra.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    providers = (
        OidcProvider("slack", "Slack", "slack", slack.issuer, CLIENT_ID, CLIENT_SECRET, frozenset({ACME})),
        OidcProvider("entra", "Microsoft", "entra", entra.issuer, CLIENT_ID, CLIENT_SECRET, frozenset({TENANT})),
    )
    try:
        async for web in make_console(store, clock, console_config(url, providers), server_port=port):
            yield SignIn(web, slack, entra, url)
    finally:
        await slack.close()
        await entra.close()


async def test_sign_in_with_slack(signin: SignIn) -> None:
    page = await signin.web.page("/console/signin")
    assert "Sign in with Slack" in page and "Sign in with Microsoft" in page
    response = await signin.through("slack")
    assert response.status == 200 and str(response.url).endswith("/console/escalations")
    assert "Alex Admin · admin" in await response.text()
    [asked] = signin.slack.authorize_requests
    assert asked["redirect_uri"] == f"{signin.url}/console/signin/slack/callback"
    assert asked["scope"] == "openid profile email" and asked["nonce"] and asked["state"]


async def test_sign_in_with_entra_id_in_the_bots_tenant_only(signin: SignIn) -> None:
    response = await signin.through("entra")
    assert response.status == 200 and "Erin Entra · admin" in await response.text()

    signin.web.sign_out_locally()
    signin.entra.claims["tid"] = "another-tenant"
    response = await signin.through("entra")
    assert response.status == 403 and "not a workspace or tenant this bot serves" in await response.text()
    assert (await signin.web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_a_slack_workspace_the_bot_does_not_serve_is_refused(signin: SignIn) -> None:
    signin.slack.claims["https://slack.com/team_id"] = "T0ELSEWHERE"
    response = await signin.through("slack")
    assert response.status == 403
    assert (await signin.web.client.get("/console/escalations", allow_redirects=False)).status == 302


@pytest.mark.parametrize("forgery", ["signature", "audience", "nonce", "expired", "audiences", "at_hash"])
async def test_a_forged_id_token_signs_nobody_in(signin: SignIn, forgery: str) -> None:
    signin.slack.forge = forgery
    response = await signin.through("slack")
    assert response.status == 403, forgery
    text = await response.text()
    assert "Sign-in refused: Slack: the id token is not valid." in text
    assert "Error" not in text and "invalid_claim" not in text  # not the library's words (InvalidClaimError…)
    assert not [c for c in signin.web.client.session.cookie_jar if c.key == "eb_console"]
    assert (await signin.web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_an_id_token_for_several_audiences_names_us_as_authorized_party(signin: SignIn) -> None:
    signin.slack.claims.update(aud=[CLIENT_ID, "some-other-client"], azp=CLIENT_ID)
    response = await signin.through("slack")
    assert response.status == 200 and "Alex Admin · admin" in await response.text()

    signin.web.sign_out_locally()
    signin.slack.claims["azp"] = "some-other-client"
    response = await signin.through("slack")
    assert response.status == 403 and "the id token is not valid" in await response.text()


async def test_the_code_is_exchanged_with_the_pkce_verifier_of_the_challenge_sent(signin: SignIn) -> None:
    response = await signin.through("entra")
    assert response.status == 200
    [asked], [exchanged] = signin.entra.authorize_requests, signin.entra.token_requests
    assert asked["code_challenge_method"] == "S256"
    verifier = exchanged["code_verifier"]
    assert 43 <= len(verifier) <= 128 and verifier not in asked.values()
    assert create_s256_code_challenge(verifier) == asked["code_challenge"]
    assert exchanged["grant_type"] == "authorization_code" and exchanged["client_id"] == CLIENT_ID

    # Each sign-in has its own verifier.
    signin.web.sign_out_locally()
    assert (await signin.through("entra")).status == 200
    assert signin.entra.token_requests[1]["code_verifier"] != verifier


async def test_a_code_whose_pkce_challenge_does_not_match_signs_nobody_in(signin: SignIn) -> None:
    signin.slack.forge = "pkce"
    response = await signin.through("slack")
    assert response.status == 403 and "did not exchange the code" in await response.text()
    assert signin.slack.token_requests[0]["code_verifier"]  # sent, but not the one the provider holds
    assert (await signin.web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_the_fake_provider_refuses_a_wrong_or_missing_verifier(signin: SignIn) -> None:
    # The provider's check is what the PKCE tests rely on: it must refuse, not wave through.
    start = await signin.web.client.get("/console/signin/slack", allow_redirects=False)
    async with signin.web.client.session.get(start.headers["Location"], allow_redirects=False) as sent:
        code = sent.headers["Location"].split("code=")[1].split("&")[0]
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    form["redirect_uri"] = f"{signin.url}/console/signin/slack/callback"
    token_url = f"{signin.slack.issuer}/token"
    for verifier in ["a-wrong-verifier-but-of-a-fine-length-0123456789abcdef", None]:
        grant = dict(signin.slack.codes)
        data = form | ({"code_verifier": verifier} if verifier else {})
        async with signin.web.client.session.post(token_url, data=data) as answer:
            assert answer.status == 400 and (await answer.json())["error"] == "invalid_grant"
        signin.slack.codes.update(grant)  # a refused exchange used the code up; give it back


async def test_a_sign_in_started_without_a_pkce_verifier_is_refused_in_one_line(signin: SignIn) -> None:
    # One started before the upgrade that added PKCE: its signed cookie has state and nonce only.
    start = await signin.web.client.get("/console/signin/slack", allow_redirects=False)
    async with signin.web.client.session.get(start.headers["Location"], allow_redirects=False) as sent:
        back = urlsplit(sent.headers["Location"])
    jar = signin.web.client.session.cookie_jar
    [cookie] = [c for c in jar if c.key == SIGNIN_COOKIE]
    pending = unsign(signin.web.console.config.secret, "signin", cookie.value, signin.web.clock.now())
    assert pending is not None and pending.pop("code_verifier")
    replaced = SimpleCookie({SIGNIN_COOKIE: sign(signin.web.console.config.secret, "signin", pending)})
    replaced[SIGNIN_COOKIE]["path"] = "/console"
    jar.clear()
    jar.update_cookies(replaced, response_url=URL(signin.url))
    response = await signin.web.client.get(f"{back.path}?{back.query}")
    assert response.status == 403
    assert "Sign-in refused: Slack: this sign-in was not started by this version: try again" in await response.text()
    assert not signin.slack.token_requests  # refused before the code was spent


async def test_a_callback_this_browser_did_not_start_is_refused(signin: SignIn) -> None:
    # A code and state from elsewhere (another browser's sign-in, or an attacker's).
    response = await signin.web.client.get("/console/signin/slack/callback?code=abc&state=xyz")
    assert response.status == 403
    start = await signin.web.client.get("/console/signin/slack", allow_redirects=False)
    assert start.status == 302
    response = await signin.web.client.get("/console/signin/slack/callback?code=abc&state=not-the-one")
    assert response.status == 403
    # The right state but no code (the person declined at the provider): refused too.
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    response = await signin.web.client.get(f"/console/signin/slack/callback?error=access_denied&state={state}")
    assert response.status == 403 and "did not start here" in await response.text()
    assert (await signin.web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_an_unknown_provider_is_not_found(signin: SignIn) -> None:
    assert (await signin.web.client.get("/console/signin/github")).status == 404
