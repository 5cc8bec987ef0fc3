"""Slack for one process: one Web API client and session, the Bolt app at
``POST /slack/events`` (or Socket Mode), and the Sender the dispatcher uses."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from workflows.clock import Clock
from workflows.service import EscalationService

from .home import SlackHome, SlackLinks
from .listeners import SlackInbound
from .names import SlackNames
from .sender import SlackSender, retry_after_of
from .user_groups import SlackUserGroups

log = logging.getLogger("escalation_bot.slack")

DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
API_TIMEOUT_S = 10.0


# Bolt falls back on these when an argument is not given: it found SLACK_BOT_TOKEN next to
# our client and warned at every start that the token would be unused, and SLACK_CLIENT_ID
# with SLACK_CLIENT_SECRET would quietly turn its OAuth installation flow on. The bot's
# settings are the one reader of the environment; Bolt is given exactly what they say.
BOLT_ENVIRONMENT = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_VERIFICATION_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


@contextlib.contextmanager
def _bolt_reads_no_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in BOLT_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's rate-limit retry, for short waits only.

    A request made while Slack waits for our answer (``views.open`` has 3 s) is worth a
    brief in-process retry; a long ``Retry-After`` instead goes back to the outbox,
    which reschedules the delivery without holding a worker.
    """

    def __init__(self, max_wait: float = 2.0, max_retry_count: int = 1) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not await super()._can_retry_async(state=state, request=request, response=response, error=error):
            return False
        wait = retry_after_of(response.headers if response is not None else None)
        return wait is None or wait <= self.max_wait


# Web API methods that may be sent again when a connection drops mid-call: reading, or setting
# a state that a second identical call leaves as it was. ``chat.update`` rewrites the card with
# the same blocks (the outbox sends one escalation's updates one at a time, in order, so an
# immediate re-send can never overwrite a newer version); ``views.publish`` replaces the whole
# Home tab; ``conversations.open`` returns the same DM. Anything that posts
# (``chat.postMessage``, ``chat.postEphemeral``, ``views.open``...) is not on the list: a dropped
# connection may have lost only the answer, and a blind re-send posts twice. Those go back to
# the outbox, which looks the message up by its metadata before it tries again.
IDEMPOTENT_METHODS = frozenset(
    {
        "auth.test",
        "chat.getPermalink",
        "chat.update",
        "conversations.history",
        "conversations.info",
        "conversations.open",
        "conversations.replies",
        "users.info",
        "views.publish",
    }
)


def method_of(url: str) -> str:
    """The Web API method of a request URL (``.../api/chat.postMessage?x=y`` -> ``chat.postMessage``)."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class IdempotentConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack_sdk's one re-send after a dropped connection, for idempotent methods only."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request.url) not in IDEMPOTENT_METHODS:
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def web_client(
    token: str, api_url: str, session: aiohttp.ClientSession, *, inline_retry_max_wait: float = 2.0
) -> AsyncWebClient:
    handlers: list[AsyncRetryHandler] = [
        IdempotentConnectionErrorRetryHandler(),
        # A 429 means Slack did not handle the call: sending it again cannot double it.
        ShortRateLimitRetryHandler(max_wait=inline_retry_max_wait),
    ]
    return AsyncWebClient(
        token=token, base_url=api_url, session=session, timeout=int(API_TIMEOUT_S), retry_handlers=handlers
    )


class SlackPlatform:
    """Built once by ``bot/wiring``; ``mount`` it on the aiohttp app and ``close`` it on cleanup."""

    def __init__(
        self,
        *,
        service: EscalationService,
        clock: Clock,
        bot_token: str,
        signing_secret: str | None,
        api_url: str = DEFAULT_API_URL,
        app_token: str | None = None,
        session: aiohttp.ClientSession | None = None,
        inline_retry_max_wait: float = 2.0,
    ) -> None:
        if not signing_secret and not app_token:
            raise ValueError("Slack needs SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket Mode)")
        # slack_sdk applies its own timeout only to sessions it creates: without this, a hung
        # call would wait aiohttp's 5 minutes, longer than an outbox lease.
        self.session = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_S))
        self.client = web_client(
            bot_token, api_url or DEFAULT_API_URL, self.session, inline_retry_max_wait=inline_retry_max_wait
        )
        self.links = SlackLinks(self.client)
        self.names = SlackNames(self.client)
        self.home = SlackHome(service, self.client, self.links, clock)
        self.sender = SlackSender(self.client, self.links, clock, self.home)
        self.signing_secret = signing_secret or None
        self.app_token = app_token or None
        with _bolt_reads_no_environment():
            self.bolt = AsyncApp(
                client=self.client,
                # Socket Mode alone needs no signing secret; the HTTP route is then not mounted.
                signing_secret=signing_secret or "unused-in-socket-mode",
                process_before_response=True,
                name="escalation-bot",
                logger=logging.getLogger("escalation_bot.slack.bolt"),
            )
        self.user_groups = SlackUserGroups(service.user_groups, self.client)
        self.inbound = SlackInbound(service, self.client, self.links, self.home, clock, self.user_groups)
        self.inbound.register(self.bolt)
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._socket: Any = None

    def mount(self, app: web.Application) -> None:
        if self.signing_secret:
            app.router.add_post(EVENTS_PATH, self.handle)
        if self.app_token:
            app.on_startup.append(self._start_socket_mode)
        app.on_startup.append(self._read_user_groups)

    async def _read_user_groups(self, _: web.Application) -> None:
        self.user_groups.start()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Slash commands, events, interactivity and options, all at one URL."""
        # Verified here first, on the raw bytes: fuzzing found bodies that are not UTF-8 and
        # signature headers that are not numbers or not ASCII, which made the library's own
        # check raise (a 500, or an acknowledgement of a forged request).
        if not self._authentic(await request.read(), request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:
            log.warning("unreadable slack payload acknowledged", extra={"path": request.path})
            return web.Response(status=200)
        response = await self.bolt.async_dispatch(bolt_request)
        if response.status >= 500 or response.status == 404:
            # A listener failed or nothing listens: logged by Bolt/our guard; Slack must not retry.
            log.warning("slack request not handled", extra={"status": response.status})
            return web.Response(status=200)
        return await to_aiohttp_response(response)

    def _authentic(self, body: bytes, headers: Mapping[str, str]) -> bool:
        if self._verifier is None:
            return False
        try:
            return self._verifier.is_valid_request(body, headers)
        except (ValueError, TypeError):  # a timestamp that is no number, a signature that is no ASCII
            return False

    async def _start_socket_mode(self, _: web.Application) -> None:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        self._socket = AsyncSocketModeHandler(self.bolt, self.app_token, web_client=self.client)
        await self._socket.connect_async()
        log.info("slack socket mode connected")

    async def close(self) -> None:
        self.home.close()
        await self.user_groups.stop()
        if self._socket is not None:
            try:
                await self._socket.close_async()
            except Exception:
                log.warning("socket mode did not close cleanly", exc_info=True)
            self._socket = None
        if not self.session.closed:
            await self.session.close()
