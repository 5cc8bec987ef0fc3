"""What the Teams adapter needs to know, built by ``bot/`` from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botframework.connector.auth import AuthenticationConstants

# Where Microsoft's Bot Connector for Teams lives: the public cloud and the US government
# clouds (GCC, GCC High, DoD). The bot's access token is only ever sent to these.
DEFAULT_SERVICE_URL_ALLOWLIST: tuple[str, ...] = (
    "https://smba.trafficmanager.net/",
    "https://smba.infra.gcc.teams.microsoft.com/",
    "https://smba.infra.gov.teams.microsoft.us/",
    "https://smba.infra.dod.teams.microsoft.us/",
)


ANY_PORT = -1


class ServiceUrlAllowlist:
    """Service URLs the bot may call: scheme, host and port must match an entry, and
    the path must start with the entry's path. An entry's port may be ``*``: the Bot
    Framework Emulator serves on a port it picks at each start (``http://localhost:*/``)."""

    def __init__(self, entries: tuple[str, ...] | list[str]) -> None:
        self.entries = tuple(e.strip() for e in entries if e.strip())
        self._parsed = [self._entry(e) for e in self.entries]

    @classmethod
    def _entry(cls, url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url.strip())
        if parts.netloc.endswith(":*"):
            scheme, host, _, path = cls._split(parts._replace(netloc=parts.netloc[:-2]).geturl())
            return scheme, host, ANY_PORT, path
        return cls._split(url)

    @staticmethod
    def _split(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80 if scheme == "http" else None)
        return scheme, (parts.hostname or "").lower(), port, parts.path or "/"

    def allows(self, url: str | None) -> bool:
        if not url:
            return False
        try:
            scheme, host, port, path = self._split(url)
        except ValueError:
            return False
        if not host or "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            return False  # credentials in the authority: never ours
        for a_scheme, a_host, a_port, a_path in self._parsed:
            same_port = a_port in (port, ANY_PORT)
            if (scheme, host) == (a_scheme, a_host) and same_port and (path + "/").startswith(a_path.rstrip("/") + "/"):
                return True
        return False


@dataclass
class TeamsConfig:
    """``app_id`` empty: authentication is off (Bot Framework Emulator, local trials)."""

    app_id: str = ""
    app_password: str = ""
    app_tenant_id: str = ""
    app_type: str = "MultiTenant"  # MultiTenant | SingleTenant
    service_url_allowlist: tuple[str, ...] = DEFAULT_SERVICE_URL_ALLOWLIST
    # Overrides of where tokens are validated and obtained (private clouds, tests). Leave
    # unset for the public cloud.
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    login_url: str | None = None
    oauth_scope: str | None = None

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def allowlist(self) -> ServiceUrlAllowlist:
        return ServiceUrlAllowlist(self.service_url_allowlist)

    def bot_framework_configuration(self) -> object:
        """The attribute-style configuration ``ConfigurationBotFrameworkAuthentication`` reads."""

        class _Configuration:
            pass

        conf: Any = _Configuration()
        conf.APP_ID = self.app_id
        conf.APP_PASSWORD = self.app_password
        conf.APP_TYPE = self.app_type
        conf.APP_TENANTID = self.app_tenant_id
        if self.openid_metadata_url or self.token_issuer or self.login_url or self.oauth_scope:
            conf.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
                self.openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
            )
            conf.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                self.token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            conf.TO_CHANNEL_FROM_BOT_LOGIN_URL = self.login_url or (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + (self.app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT)
            )
            conf.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                self.oauth_scope or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            conf.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
        return conf
