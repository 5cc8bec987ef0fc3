"""An OpenID Connect provider on loopback that signs real JWTs: discovery document, JWKS,
an authorize endpoint that sends the browser back with a code, and a token endpoint that
answers that code with an id token, only for the PKCE (S256) verifier of the challenge it was
given. Tests choose whom it signs in, and can make it forge."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "console-client"
CLIENT_SECRET = "console-secret"
ACCESS_TOKEN = "an-access-token"


@dataclass
class FakeProvider:
    """``path`` is where its issuer lives under the server (Entra's is ``/<tenant>/v2.0``)."""

    path: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    # How the next id token is spoiled: None, "signature", "audience", "nonce", "expired",
    # "audiences" (several, and no azp), "at_hash" (not the access token's);
    # or "pkce": the provider remembers another challenge, so our verifier does not match.
    forge: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True))
    server: TestServer | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # The time it signs at: the console under test runs on a fake clock.
    clock: Callable[[], float] = time.time

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return str(self.server.make_url(self.path)).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        base = self.path.rstrip("/")
        app.router.add_get(f"{base}/.well-known/openid-configuration", self.discovery)
        app.router.add_get(f"{base}/authorize", self.authorize)
        app.router.add_post(f"{base}/token", self.token)
        app.router.add_get(f"{base}/jwks", self.jwks)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorize_requests.append(query)
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return web.Response(status=400, text="bad client or response type")
        code = secrets.token_urlsafe(16)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return web.Response(status=400, text="PKCE S256 is required")
        challenge = query["code_challenge"]
        if self.forge == "pkce":
            challenge = create_s256_code_challenge("a-verifier-from-another-sign-in-0123456789abcdef")
        self.codes[code] = {"nonce": query["nonce"], "redirect_uri": query["redirect_uri"], "challenge": challenge}
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return web.Response(status=302, headers={"Location": back})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests.append({k: str(v) for k, v in form.items()})
        grant = self.codes.pop(str(form.get("code")), None)
        if (
            grant is None
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("redirect_uri") != grant["redirect_uri"]
            or create_s256_code_challenge(str(form.get("code_verifier", ""))) != grant["challenge"]
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response(
            {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "id_token": self.id_token(grant)}
        )

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "subject-1",
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "at_hash": create_half_hash(ACCESS_TOKEN, "RS256").decode(),
            **self.claims,
        }
        key = self.key
        if self.forge == "signature":
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        elif self.forge == "audience":
            claims["aud"] = "some-other-client"
        elif self.forge == "nonce":
            claims["nonce"] = "a-nonce-from-another-sign-in"
        elif self.forge == "expired":
            claims["exp"] = now - 60
        elif self.forge == "audiences":
            claims["aud"] = [CLIENT_ID, "some-other-client"]
        elif self.forge == "at_hash":
            claims["at_hash"] = create_half_hash("another-access-token", "RS256").decode()
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
