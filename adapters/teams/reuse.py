"""botbuilder builds a new Bot Connector client and a new user-token client for every
inbound activity. Building one (its msrest configuration, whose retry policy alone runs
a half-million comparisons) cost ~5.6 ms of CPU each on the benchmark machine: more
than the rest of the turn. ``ReusingAuthentication`` keeps them, per bot identity and
service URL, and is otherwise botbuilder's own ``ConfigurationBotFrameworkAuthentication``:
authentication itself (issuer, audience, signature, expiry, serviceUrl claim) is unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ClaimsIdentity, ConnectorFactory, UserTokenClient
from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult
from botframework.connector.auth.authentication_constants import AuthenticationConstants

from .connector import close_clients

# The claims botbuilder derives the bot's app id from; the rest (expiry, nonce) vary per token.
_IDENTITY_CLAIMS = (
    AuthenticationConstants.AUDIENCE_CLAIM,
    AuthenticationConstants.APP_ID_CLAIM,
    AuthenticationConstants.AUTHORIZED_PARTY,
    AuthenticationConstants.VERSION_CLAIM,
)


def identity_key(identity: ClaimsIdentity | None) -> tuple[str, ...]:
    claims = (identity.claims if identity is not None else None) or {}
    return tuple(str(claims.get(name) or "") for name in _IDENTITY_CLAIMS)


class _Kept:
    """A bounded least-recently-used store (a flood of distinct service URLs cannot grow it)."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], value: Any) -> Any:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.most:
            self.items.popitem(last=False)
        return value


class _ReusingFactory(ConnectorFactory):
    def __init__(self, kept: _Kept, identity: tuple[str, ...], inner: ConnectorFactory) -> None:
        self.kept = kept
        self.identity = identity
        self.inner = inner

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self.identity, service_url, audience)
        client = self.kept.get(key)
        if client is None:
            client = self.kept.put(key, await self.inner.create(service_url, audience))
        return client


class ReusingAuthentication(ConfigurationBotFrameworkAuthentication):
    def __init__(self, *args: Any, most: int = 256, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connectors = _Kept(most)
        self._token_clients = _Kept(most)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusingFactory(
                self._connectors, identity_key(result.claims_identity), result.connector_factory
            )
        return result

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = identity_key(claims_identity)
        client = self._token_clients.get(key)
        if client is None:
            client = self._token_clients.put(key, await super().create_user_token_client(claims_identity))
        return client

    async def close(self) -> None:
        """Close the kept connector clients (their HTTP sessions), at shutdown."""
        clients = list(self._connectors.items.values())
        self._connectors.items.clear()
        self._token_clients.items.clear()
        await close_clients(clients)
