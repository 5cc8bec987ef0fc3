"""``POST /api/messages``: botbuilder's CloudAdapter on our aiohttp app, with the Teams
bot, the proactive sender and the conversation references they share."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory
from msrest.exceptions import DeserializationError
from yarl import URL

from workflows.service import EscalationService

from .bot import EscalationTeamsBot
from .config import TeamsConfig
from .connector import Connector
from .conversations import ConversationStore
from .reuse import ReusingAuthentication
from .sender import TeamsSender

log = logging.getLogger("escalation_bot.teams")

MAX_BODY = 1024 * 1024

# Invokes whose ``value`` botbuilder reads as an object; anything else there is malformed.
_INVOKES_WITH_OBJECT_VALUE = ("adaptiveCard/", "composeExtension/", "task/", "message/")


def malformed(body: dict[str, Any]) -> str | None:
    """Why an Activity cannot be a real one from Teams, or None.

    botbuilder trusts the shape of what it is given: an activity without a conversation or
    recipient, an invoke without a name or with a value that is not an object, or a service URL
    that is no URL makes it raise deep inside a turn (a 500). Such a request is refused here with
    a 400 before it reaches the bot, so nothing is stored or sent for it."""
    for field in ("conversation", "from", "recipient"):
        value = body.get(field)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
            return f"'{field}' must be an object with an id"
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not _is_http_url(service_url):
        return "'serviceUrl' must be an http(s) URL"
    if body.get("type") == "invoke":
        name = body.get("name")
        if not isinstance(name, str) or not name:
            return "an invoke needs a 'name'"
        value = body.get("value")
        if name.startswith(_INVOKES_WITH_OBJECT_VALUE) and not isinstance(value, dict):
            return f"the value of '{name}' must be an object"
        action = value.get("action") if isinstance(value, dict) else None
        if name == "adaptiveCard/action" and not isinstance(action, dict):
            return "an Adaptive Card action needs an 'action' object"
    return None


def _is_http_url(text: str) -> bool:
    if any(c in text for c in '{}<> \t\r\n"\\'):
        return False  # the connector client formats URLs with str.format
    try:
        url = URL(text)
    except ValueError:
        return False
    return url.scheme in {"http", "https"} and bool(url.host)


class TeamsIntegration:
    """Everything Teams, built once by ``bot/``: mount it on the app and register ``sender``."""

    def __init__(
        self,
        config: TeamsConfig,
        service: EscalationService,
        conversations: ConversationStore,
        *,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
    ) -> None:
        self.config = config
        self.auth = ReusingAuthentication(config.bot_framework_configuration(), credentials_factory=credentials_factory)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.allowlist = config.allowlist
        self.connector = Connector(self.auth, config.app_id, self.allowlist)
        self.sender = TeamsSender(
            self.connector, conversations, lambda: {c.key: c.name for c in service.directory.all()}
        )
        self.bot = EscalationTeamsBot(service, conversations, self.sender)
        if not config.auth_enabled:
            log.warning(
                "TEAMS AUTHENTICATION IS OFF: /api/messages accepts unsigned requests from anyone. "
                "Use this only with the Bot Framework Emulator on a private machine; set MICROSOFT_APP_ID "
                "and MICROSOFT_APP_PASSWORD for any real deployment."
            )

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle)

        async def close_clients(_: web.Application) -> None:
            await self.connector.close()
            await self.auth.close()

        app.on_cleanup.append(close_clients)

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        if isinstance(error, DeserializationError):
            raise error  # a malformed invoke value: refused with a 400 by ``handle``
        log.error(
            "Teams turn failed",
            exc_info=(type(error), error, error.__traceback__),
            extra={"activity_type": turn_context.activity.type, "activity_id": turn_context.activity.id},
        )
        raise error

    async def handle(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
            return web.json_response({"error": "not an activity"}, status=400)
        if not isinstance(body, dict) or not activity.type:
            return web.json_response({"error": "not an activity"}, status=400)
        problem = malformed(body)
        if problem is not None:
            log.info("Teams request refused: malformed activity", extra={"reason": problem})
            return web.json_response({"error": f"malformed activity: {problem}"}, status=400)
        header = request.headers.get("Authorization") or None
        try:
            # Issuer, audience, signature, expiry and the serviceUrl claim, by botbuilder.
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(activity, header)
        except Exception as exc:
            log.warning(
                "Teams request rejected: authentication failed",
                extra={"error": type(exc).__name__, "detail": str(exc)[:200], "activity_id": activity.id},
            )
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.config.auth_enabled and not self.allowlist.allows(activity.service_url):
            log.warning("Teams request rejected: service URL not allowed", extra={"service_url": activity.service_url})
            return web.json_response({"error": "service URL not allowed"}, status=403)
        try:
            response = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        except DeserializationError as exc:
            # botbuilder reads an invoke's value into its own models before our handlers run
            # (a message extension's messagePayload, say): a value of the wrong shape is the
            # sender's fault, and nothing was stored for it.
            log.info("Teams request refused: malformed invoke value", extra={"activity_name": activity.name})
            return web.json_response({"error": f"malformed activity: {str(exc)[:200]}"}, status=400)
        if response is not None and int(response.status) == 501:
            # botbuilder's answer to an invoke this bot does not handle: unsupported, not a server fault.
            return web.json_response({"error": f"unsupported invoke: {activity.name}"}, status=400)
        if response is not None:
            return web.json_response(data=response.body, status=int(response.status))
        return web.Response(status=200)
