"""Sign-in with OpenID Connect (authorization code flow with PKCE S256): Slack and Microsoft Entra ID.

Authlib builds the authorization request, reads the provider's answer (the state this browser
was given must come back) and builds the token request; aiohttp carries them. The id token's
signature is checked by joserfc against the provider's published keys (JWKS), and its claims
by Authlib's OpenID Connect rules (issuer, our client id as audience, azp, exp, iat, the nonce
this browser was given, at_hash); then only a person of a workspace or tenant the bot serves is
let in."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

import aiohttp
from authlib.oauth2.rfc6749.errors import MismatchingStateException, MissingCodeException
from authlib.oauth2.rfc6749.parameters import (
    parse_authorization_code_response,
    prepare_grant_uri,
    prepare_token_request,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from workflows.model import PersonRef, Platform

from .config import OidcProvider

log = logging.getLogger("escalation_bot.console.oidc")


class SignInFailed(Exception):
    """The provider's answer cannot be trusted, or names someone we do not serve: the message
    is for the person signing in; ``detail`` (the library's words) only for the log."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


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
        """Where to send the browser, and what to remember (signed, in its cookie) until it comes back."""
        found = await self.discovery(session)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        code_verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]: RFC 7636 allows 43-128
        url = prepare_grant_uri(
            found["authorization_endpoint"],
            client_id=self.provider.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope="openid profile email",
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return str(url), {"state": state, "nonce": nonce, "code_verifier": code_verifier}

    @staticmethod
    def code_of(callback_url: str, state: str) -> str | None:
        """The authorization code the provider sent back, if it came with the state this browser was given."""
        if not state:
            return None  # Authlib compares the state only when one is expected
        try:
            answer = parse_authorization_code_response(callback_url, state=state)
        except (MissingCodeException, MismatchingStateException):  # declined or an error; another state
            return None
        return str(answer["code"]) or None

    async def person(
        self, session: aiohttp.ClientSession, code: str, pending: dict[str, Any], now: datetime
    ) -> PersonRef:
        """Exchange the code (with the PKCE verifier) for an id token, check it, and say who it names."""
        nonce, code_verifier = str(pending.get("nonce") or ""), str(pending.get("code_verifier") or "")
        if not nonce or not code_verifier:
            raise SignInFailed(f"{self.provider.label}: this sign-in was not started by this version: try again")
        found = await self.discovery(session)
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            client_id=self.provider.client_id,
            client_secret=self.provider.client_secret,
            code_verifier=code_verifier,
        )
        async with session.post(
            found["token_endpoint"],
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            answer = await response.json(content_type=None)
        if response.status != 200 or not isinstance(answer, dict) or "id_token" not in answer:
            raise SignInFailed(f"{self.provider.label} did not exchange the code (HTTP {response.status})")
        keys = KeySet.import_key_set(await self._get_json(session, found["jwks_uri"]))  # type: ignore[arg-type]
        access_token = answer.get("access_token")
        claims = self.verify(
            str(answer["id_token"]),
            keys,
            str(found["issuer"]),
            nonce,
            now,
            access_token=str(access_token) if access_token else None,
        )
        return self._person_of(claims)

    def verify(
        self,
        id_token: str,
        keys: KeySet,
        issuer: str,
        nonce: str,
        now: datetime,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """joserfc checks the signature against the provider's keys; Authlib's OpenID Connect rules
        for a code flow's id token check the claims (iss, sub, aud, exp, iat, nonce, azp, at_hash)."""
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
            claims = CodeIDToken(
                token.claims,
                token.header,
                options={
                    "iss": {"essential": True, "value": issuer},
                    "aud": {"essential": True, "value": self.provider.client_id},
                },
                params={"nonce": nonce, "client_id": self.provider.client_id, "access_token": access_token},
            )
            claims.validate(now=int(now.timestamp()))
        except (JoseError, ValueError) as exc:
            raise SignInFailed(
                f"{self.provider.label}: the id token is not valid", detail=f"{type(exc).__name__}: {exc}"
            ) from None
        return dict(claims)

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
