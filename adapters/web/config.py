"""What the console needs to know from the deployment's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal


@dataclass(frozen=True)
class OidcProvider:
    """An OpenID Connect identity provider people sign in with.

    ``kind`` says how an id token names a person: Slack (``https://slack.com/user_id`` in
    the workspace ``https://slack.com/team_id``) or Entra ID (``oid`` in the tenant ``tid``).
    Only the workspaces or tenants in ``allowed`` get in."""

    name: str  # in URLs: "slack" | "entra"
    label: str
    kind: Literal["slack", "entra"]
    issuer: str  # its discovery document is at issuer + /.well-known/openid-configuration
    client_id: str
    client_secret: str
    allowed: frozenset[str]


@dataclass(frozen=True)
class ConsoleConfig:
    secret: bytes  # signs session cookies
    public_url: str  # where people reach serve, e.g. https://bot.example.com
    providers: tuple[OidcProvider, ...] = ()
    session_ttl: timedelta = timedelta(hours=12)
    link_ttl: timedelta = timedelta(minutes=15)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.lower().startswith("https://")

    def url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path
