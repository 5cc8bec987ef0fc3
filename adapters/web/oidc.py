"""Sign-in with OpenID Connect (authorization code flow): Slack and Microsoft Entra ID.

The id token is verified with the provider's published keys (JWKS), for its issuer, our
client id as audience, and the nonce this browser was given; then only a person of a
workspace or tenant the bot serves is let in."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from workflows.model import PersonRef, Platform

from .config import OidcProvider

log = logging.getLogger("escalation_bot.console.oidc")


class SignInFailed(Exception):
    """The provider's answer cannot be trusted, or names someone we do not serve."""


class OidcClient:
    """One provider's endpoints (from its discovery document, fetched once) and keys."""

    def __init__(self, provider: OidcProvider, redirect_uri: str) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._discovery: dict[str, Any] | None = None

    async def _get_json(self, session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            if response.status != 200:
                raise SignInFailed(f"{self.provider.label}: {url} answered HTTP {response.status}")
            data = await response.json(content_type=None)
        if not isinstance(data, dict):
            raise SignInFailed(f"{self.provider.label}: {url} did not answer a JSON object")
        return data

    async def discovery(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        if self._discovery is None:
            url = self.provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
            self._discovery = await self._get_json(session, url)
        return self._discovery

    async def authorize_url(self, session: aiohttp.ClientSession) -> tuple[str, dict[str, str]]:
        """Where to send the browser, and what to remember until it comes back."""
        found = await self.discovery(session)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
        }
        return f"{found['authorization_endpoint']}?{urlencode(query)}", {"state": state, "nonce": nonce}

    async def person(self, session: aiohttp.ClientSession, code: str, nonce: str, now: datetime) -> PersonRef:
        found = await self.discovery(session)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.provider.client_id,
            "client_secret": self.provider.client_secret,
        }
        async with session.post(
            found["token_endpoint"], data=form, timeout=aiohttp.ClientTimeout(total=10)
        ) as response:
            answer = await response.json(content_type=None)
        if response.status != 200 or not isinstance(answer, dict) or "id_token" not in answer:
            raise SignInFailed(f"{self.provider.label} did not exchange the code (HTTP {response.status})")
        keys = KeySet.import_key_set(await self._get_json(session, found["jwks_uri"]))  # type: ignore[arg-type]
        claims = self.verify(str(answer["id_token"]), keys, str(found["issuer"]), nonce, now)
        return self._person_of(claims)

    def verify(self, id_token: str, keys: KeySet, issuer: str, nonce: str, now: datetime) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": self.provider.client_id},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SignInFailed(
                f"{self.provider.label}: the id token is not valid ({type(exc).__name__}: {exc})"
            ) from None
        return dict(token.claims)

    def _person_of(self, claims: dict[str, Any]) -> PersonRef:
        name = claims.get("name") or claims.get("preferred_username") or claims.get("email")
        if self.provider.kind == "slack":
            user, tenant = claims.get("https://slack.com/user_id"), claims.get("https://slack.com/team_id")
            platform = Platform.slack
        else:
            user, tenant = claims.get("oid"), claims.get("tid")
            platform = Platform.teams
        if not user or not tenant:
            raise SignInFailed(f"{self.provider.label}: the id token names no user or no workspace/tenant")
        if str(tenant) not in self.provider.allowed:
            raise SignInFailed(f"{self.provider.label}: {tenant} is not a workspace or tenant this bot serves")
        return PersonRef(
            platform=platform,
            id=str(user),
            tenant=str(tenant),
            name=str(name) if name else None,
            # Entra's oid: the chat knows the person by their 29: id, found by this one.
            aad=str(user) if platform == Platform.teams else None,
        )
