"""Microsoft's side of Teams, faked locally: the login service (OpenID metadata, signing
keys, the bot's token endpoint) and the Bot Connector (``/v3/conversations``)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
import requests
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import MicrosoftAppCredentials, PasswordServiceClientCredentialFactory
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from msrest.authentication import Authentication

ISSUER = "https://api.botframework.com"
ACCESS_TOKEN = "fake-bot-access-token"


class FakeLogin:
    """Serves OpenID metadata + JWKS (botbuilder fetches them with blocking ``requests``, so
    this runs in a thread) and issues the bot's own access tokens."""

    def __init__(self, app_id: str, app_password: str) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.token_requests: list[dict[str, list[str]]] = []
        login = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, data: Any, status: int = 200) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/.well-known/openidconfiguration":
                    self._json({"issuer": ISSUER, "jwks_uri": f"{login.url}/keys"})
                elif self.path == "/keys":
                    jwk = json.loads(RSAAlgorithm.to_jwk(login.key.public_key()))
                    jwk.update(kid=login.kid, use="sig", alg="RS256", endorsements=["msteams"])
                    self._json({"keys": [jwk]})
                else:
                    self._json({"error": "not found"}, 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                login.token_requests.append(form)
                if form.get("client_id") != [login.app_id] or form.get("client_secret") != [login.app_password]:
                    self._json({"error": "invalid_client"}, 401)
                    return
                self._json({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, service_url: str, *, key: Any = None, kid: str | None = None, **claims: Any) -> str:
        """A channel token as the Bot Connector would sign it; ``claims`` override the defaults."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": self.app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


class _LocalCredentials(MicrosoftAppCredentials):
    """The bot's client-credentials token, from the fake login service instead of Entra ID."""

    def __init__(self, app_id: str, password: str, token_url: str) -> None:
        super().__init__(app_id, password)
        self.token_url = token_url

    def get_access_token(self, force_refresh: bool = False) -> str:
        response = requests.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.microsoft_app_id,
                "client_secret": self.microsoft_app_password,
                "scope": f"{self.oauth_scope}/.default",
            },
            timeout=5,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


class LocalCredentialsFactory(PasswordServiceClientCredentialFactory):
    def __init__(self, app_id: str, password: str, token_url: str) -> None:
        super().__init__(app_id, password)
        self.token_url = token_url

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("Invalid app_id")
        return _LocalCredentials(app_id, self.password, self.token_url)


@dataclass
class Call:
    method: str
    kind: str  # create | send | reply | update
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str | None

    def card(self) -> dict[str, Any] | None:
        source = self.body.get("activity") or self.body
        for attachment in source.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = attachment["content"]
                return content
        return None

    def text(self) -> str:
        source = self.body.get("activity") or self.body
        return str(source.get("text") or "")


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    match: str | None = None  # conversation id / member id substring; None: the next call


@dataclass
class FakeConnector:
    """The Bot Connector REST API on a random port; records every call and fails on demand."""

    calls: list[Call] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    blocked: dict[str, tuple[int, str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    server: TestServer | None = None
    # Faults injected by ``chaos``, in order: "429", "500", "reset", "timeout".
    faults: list[str] = field(default_factory=list)
    _chaos: dict[str, Any] | None = None
    # Per-conversation limits as Teams enforces them: (window seconds, count) pairs, and a tolerance.
    _enforced: tuple[tuple[tuple[float, int], ...], float] | None = None
    _sent_at: dict[str, list[float]] = field(default_factory=dict)
    throttled: int = 0

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/") + "/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def fail_next(self, count: int = 1, status: int = 429, retry_after: str | None = "7", code: str = "") -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        for _ in range(count):
            self.failures.append(_Failure(status, headers, {"error": {"code": code or "Throttled", "message": "x"}}))

    def chaos(
        self,
        rate: float,
        *,
        seed: int = 0,
        faults: tuple[str, ...] = ("429", "500", "timeout", "reset"),
        retry_after: str = "1",
        hang: float = 3.0,
    ) -> None:
        """From now on a fraction ``rate`` of calls fail, drawn with a seeded RNG (``rate=0``: off).

        ``429`` throttled with ``Retry-After``; ``500`` an internal error; ``reset`` the
        connection dropped before the call is handled; ``drop`` the call IS handled, then the
        connection is dropped; ``timeout`` the call IS handled (the message is posted and
        recorded) but answered ``hang`` seconds late, after the bot gave up.
        """
        self._chaos = (
            {"rate": rate, "rng": random.Random(seed), "faults": faults, "retry_after": retry_after, "hang": hang}
            if rate > 0
            else None
        )

    def enforce_rate(self, limits: tuple[tuple[float, int], ...], tolerance: float = 0.85) -> None:
        """More than ``count`` calls to one conversation (a channel with its threads) within
        ``window`` seconds (less a ``tolerance`` for jitter) answer 429, as Teams does."""
        self._enforced = (limits, tolerance)

    def _over_limit(self, conversation: str, body: dict[str, Any]) -> bool:
        if self._enforced is None:
            return False
        limits, tolerance = self._enforced
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        key = (channel or conversation).partition(";messageid=")[0]
        now = time.monotonic()
        history = self._sent_at.setdefault(key, [])
        for window, count in limits:
            if sum(1 for t in history if now - t < window * tolerance) >= count:
                self.throttled += 1
                return True
        history.append(now)
        return False

    async def _inject(self, request: web.Request) -> str | None:
        """The fault drawn for this call, if any; ``reset`` drops the connection here."""
        chaos = self._chaos
        if chaos is None or chaos["rng"].random() >= chaos["rate"]:
            return None
        fault: str = chaos["rng"].choice(chaos["faults"])
        self.faults.append(fault)
        if fault == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return fault

    def block(self, target: str, status: int = 403, code: str = "MessageWritesBlocked") -> None:
        """Every call about ``target`` (a conversation or member id) fails from now on."""
        self.blocked[target] = (status, code)

    def _failure(self, conversation: str, body: dict[str, Any]) -> web.Response | None:
        members = " ".join(str(m.get("id")) for m in body.get("members") or [])
        for target, (status, code) in self.blocked.items():
            if target in conversation or target in members:
                return web.json_response({"error": {"code": code, "message": "blocked"}}, status=status)
        if self.failures:
            failure = self.failures.pop(0)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        return None

    async def _record(
        self, request: web.Request, kind: str, conversation: str, activity: str | None
    ) -> tuple[Call, web.Response | None]:
        body = await request.json()
        call = Call(request.method, kind, conversation, activity, body, request.headers.get("Authorization"))
        fault = await self._inject(request)
        if fault in ("429", "500"):
            chaos = self._chaos or {}
            headers = {"Retry-After": chaos.get("retry_after", "1")} if fault == "429" else {}
            error = {"error": {"code": "Throttled" if fault == "429" else "ServiceError", "message": "chaos"}}
            return call, web.json_response(error, status=int(fault), headers=headers)
        if self._over_limit(conversation, body):
            error = {"error": {"code": "Throttled", "message": "too many messages"}}
            return call, web.json_response(error, status=429, headers={"Retry-After": "1"})
        failed = self._failure(conversation, body)
        if failed is None:
            self.calls.append(call)
            if fault == "drop" and request.transport is not None:  # handled, then the connection dropped
                request.transport.abort()
                raise asyncio.CancelledError
            if fault == "timeout":  # handled and recorded; the answer comes after the bot gave up
                await asyncio.sleep((self._chaos or {}).get("hang", 3.0))
        return call, failed

    async def _create(self, request: web.Request) -> web.Response:
        call, failed = await self._record(request, "create", "", None)
        if failed is not None:
            return failed
        channel = ((call.body.get("channelData") or {}).get("channel") or {}).get("id")
        if channel:
            root = str(next(self._ids))
            call.conversation = f"{channel};messageid={root}"
            return web.json_response({"id": call.conversation, "activityId": root}, status=201)
        member = (call.body.get("members") or [{}])[0].get("id", "")
        call.conversation = f"a:dm-{member}"
        return web.json_response({"id": call.conversation}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        conversation = unquote(request.match_info["conversation"])
        _, failed = await self._record(request, "send", conversation, None)
        return failed or web.json_response({"id": str(next(self._ids))}, status=201)

    async def _reply(self, request: web.Request) -> web.Response:
        conversation = unquote(request.match_info["conversation"])
        _, failed = await self._record(request, "reply", conversation, unquote(request.match_info["activity"]))
        return failed or web.json_response({"id": str(next(self._ids))}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        conversation = unquote(request.match_info["conversation"])
        activity = unquote(request.match_info["activity"])
        _, failed = await self._record(request, "update", conversation, activity)
        return failed or web.json_response({"id": activity}, status=200)

    # ------------------------------------------------------------ queries

    def of(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind]

    def in_conversation(self, conversation: str) -> list[Call]:
        return [c for c in self.calls if c.conversation == conversation]

    def dms_to(self, member: str) -> list[Call]:
        return [c for c in self.calls if c.kind == "send" and c.conversation == f"a:dm-{member}"]

    def clear(self) -> None:
        self.calls.clear()


def new_id() -> str:
    return uuid.uuid4().hex
