"""Outbound calls to the Bot Connector: allow-listed service URLs, errors mapped for the outbox."""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import BotFrameworkAuthentication, ClaimsIdentity
from botframework.connector.auth.authentication_constants import AuthenticationConstants
from msrest.exceptions import ClientRequestError, HttpOperationError

from workflows.delivery import PermanentDeliveryError, TransientDeliveryError

from .config import ServiceUrlAllowlist

log = logging.getLogger("escalation_bot.teams")

TRANSIENT_STATUSES = {408, 412, 429, 500, 502, 503, 504}
# Codes Teams gives when the bot can no longer write to a conversation.
UNREACHABLE_CODES = {
    "MessageWritesBlocked",
    "ConversationBlockedByUser",
    "BotDisabledByAdmin",
    "BotNotInConversationRoster",
    "ConversationNotFound",
}


class Unreachable(PermanentDeliveryError):
    """The bot was removed or blocked there: the target is marked and not retried."""


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def delivery_error(exc: Exception, what: str) -> Exception:
    """The outbox's view of a failed Bot Connector call."""
    if isinstance(exc, HttpOperationError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        headers = getattr(response, "headers", None)
        inner = getattr(getattr(exc, "error", None), "error", None)
        code = str(getattr(inner, "code", "") or "")
        detail = f"{what}: HTTP {status} {code}".strip()
        if status in TRANSIENT_STATUSES:
            return TransientDeliveryError(detail, code=f"http_{status}", retry_after=_retry_after(headers))
        if status == 404 or code in UNREACHABLE_CODES or (status == 403 and not code):
            return Unreachable(detail, code=code or f"http_{status}")
        return PermanentDeliveryError(detail, code=code or f"http_{status}")
    if isinstance(exc, (ClientRequestError, OSError, asyncio.TimeoutError)):
        return TransientDeliveryError(f"{what}: {type(exc).__name__}", code="network")
    return exc


class Connector:
    """Builds Bot Connector clients through botbuilder's own authentication, for allowed URLs only."""

    def __init__(
        self,
        auth: BotFrameworkAuthentication,
        app_id: str,
        allowlist: ServiceUrlAllowlist,
    ) -> None:
        self.auth = auth
        self.app_id = app_id
        self.allowlist = allowlist
        # One client per service URL for the life of the process: building one (credentials,
        # msrest configuration and pipeline) cost more CPU than the send itself (bench/HISTORY.md).
        # The credentials fetch and refresh the bot's token on their own, per request.
        self._clients: dict[str, ConnectorClient] = {}

    def check(self, service_url: str) -> None:
        if not self.allowlist.allows(service_url):
            log.error("service URL refused: not on the allow-list", extra={"service_url": service_url})
            raise PermanentDeliveryError(
                f"service URL {service_url!r} is not on TEAMS_SERVICE_URL_ALLOWLIST", code="service_url_not_allowed"
            )

    async def client(self, service_url: str) -> ConnectorClient:
        self.check(service_url)
        known = self._clients.get(service_url)
        if known is not None:
            return known
        identity = ClaimsIdentity(
            {
                AuthenticationConstants.AUDIENCE_CLAIM: self.app_id,
                AuthenticationConstants.APP_ID_CLAIM: self.app_id,
            },
            True,
        )
        factory = self.auth.create_connector_factory(identity)
        client = await factory.create(service_url, self.auth.get_originating_audience())
        # The outbox retries with backoff and Retry-After; the SDK must not retry on its own.
        client.config.retry_policy.retries = 0
        self._clients[service_url] = client
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await close_clients(clients)


async def close_clients(clients: list[ConnectorClient]) -> None:
    """Close Bot Connector clients (their HTTP sessions) at shutdown, best effort."""
    for client in clients:
        try:
            await client.__aexit__(None, None, None)
        except Exception:  # closing is best effort at shutdown
            log.debug("connector client did not close cleanly", exc_info=True)
