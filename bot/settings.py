"""Process settings from the environment (and a .env file, if present).

Settings come in groups, and each command reads only the groups it uses: a wrong ``PORT``
stops ``serve``, never ``config check``, ``migrate`` or ``demo``. ``Settings`` is all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workflows.model import Platform

from .eventloop import EventLoopChoice

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
SUPPORTED_DATABASES = "SQLite (sqlite:///path/to/file.db) or PostgreSQL (postgresql://user:password@host/db)"


class SettingsError(Exception):
    """A setting that cannot be used; the message names it and says why, on one line."""


class _FromEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


class LogSettings(_FromEnvironment):
    log_format: Literal["json", "text"] = Field(default="json", validation_alias="LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        if text not in ("json", "text"):
            raise ValueError(f"must be json or text, not {value!r}")
        return text

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return text.upper()


class DatabaseSettings(_FromEnvironment):
    database_url: str = Field(default="sqlite:///escalation-bot.db", validation_alias="DATABASE_URL")

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        # The URL may hold a password: the message names the scheme at most, never the value.
        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError(f"is not a database URL: use {SUPPORTED_DATABASES}") from None
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"names {backend}, which is not supported: use {SUPPORTED_DATABASES}")
        folder = _sqlite_folder(value)
        if folder is not None and not folder.is_dir():
            raise ValueError(f"names a SQLite file in {folder}, a folder that does not exist: create it first")
        return value


def _sqlite_folder(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().absolute().parent


class ConfigFileSettings(_FromEnvironment):
    escalation_config: str = Field(default="escalation.yaml", validation_alias="ESCALATION_CONFIG")


class PlatformSettings(_FromEnvironment):
    """What turns each chat platform on: ``config check`` names the channels on the others."""

    # Slack: on when SLACK_BOT_TOKEN is set (with a signing secret, or an app token for Socket Mode).
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    # Microsoft Teams: on when MICROSOFT_APP_ID is set (JWT-validated), or TEAMS_ENABLED without
    # an app id for the Bot Framework Emulator (authentication off, loudly).
    microsoft_app_id: str | None = Field(default=None, validation_alias="MICROSOFT_APP_ID")
    teams_enabled: bool = Field(default=False, validation_alias="TEAMS_ENABLED")

    def platforms(self) -> frozenset[Platform]:
        """The chat platforms these settings turn on (``serve`` refuses half a configuration)."""
        on = set()
        if self.slack_bot_token:
            on.add(Platform.slack)
        if (self.microsoft_app_id or "").strip() or self.teams_enabled:
            on.add(Platform.teams)
        return frozenset(on)


class SlackApiSettings(_FromEnvironment):
    """Where ``config check`` asks Slack about the user groups used as rosters (``serve`` reads the same)."""

    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")


class Settings(LogSettings, DatabaseSettings, ConfigFileSettings, PlatformSettings):
    """Everything ``serve`` reads."""

    host: str = Field(default="0.0.0.0", validation_alias="HOST")  # noqa: S104 - a server listens on all interfaces
    port: int = Field(default=3000, validation_alias="PORT")

    sweep_interval: float = Field(default=5.0, validation_alias="SWEEP_INTERVAL_SECONDS", gt=0)
    dispatch_interval: float = Field(default=1.0, validation_alias="DISPATCH_INTERVAL_SECONDS", gt=0)
    replica_id: str | None = Field(default=None, validation_alias="REPLICA_ID")
    # serve's event loop: uvloop when it is installed (the default on Linux and macOS), else
    # the standard library's; "asyncio" opts out, "uvloop" insists on it.
    event_loop: EventLoopChoice = Field(default="auto", validation_alias="EVENT_LOOP")

    # Slack (on with SLACK_BOT_TOKEN, above): a signing secret, or an app token for Socket Mode.
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")

    # Microsoft Teams (on with MICROSOFT_APP_ID or TEAMS_ENABLED, above).
    microsoft_app_password: str | None = Field(default=None, validation_alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, validation_alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field(default="MultiTenant", validation_alias="MICROSOFT_APP_TYPE")
    # Comma-separated service URL prefixes; empty means the public and US government clouds.
    teams_service_url_allowlist: str = Field(default="", validation_alias="TEAMS_SERVICE_URL_ALLOWLIST")
    # The privacy statement and terms of use served at /privacy and /terms (the Teams app
    # links to them): a plain text file each; a sensible default text without.
    privacy_file: str | None = Field(default=None, validation_alias="PRIVACY_FILE")
    terms_file: str | None = Field(default=None, validation_alias="TERMS_FILE")

    # The web console (/console). CONSOLE_SECRET signs its session cookies: without it a random
    # one is made at each start (sessions then end at a restart, and replicas need the same one).
    console_secret: str | None = Field(default=None, validation_alias="CONSOLE_SECRET", min_length=32)
    # Where people reach serve (links, sign-in redirects); https:// makes the cookies Secure.
    console_url: str | None = Field(default=None, validation_alias="CONSOLE_URL")
    # "Sign in with Slack" (OpenID Connect); only the listed workspaces (team ids) get in.
    slack_oidc_client_id: str | None = Field(default=None, validation_alias="SLACK_OIDC_CLIENT_ID")
    slack_oidc_client_secret: str | None = Field(default=None, validation_alias="SLACK_OIDC_CLIENT_SECRET")
    slack_oidc_teams: str = Field(default="", validation_alias="SLACK_OIDC_TEAMS")
    slack_oidc_issuer: str = Field(default="https://slack.com", validation_alias="SLACK_OIDC_ISSUER")
    # "Sign in with Microsoft" (Entra ID, OpenID Connect), restricted to one tenant.
    entra_client_id: str | None = Field(default=None, validation_alias="ENTRA_CLIENT_ID")
    entra_client_secret: str | None = Field(default=None, validation_alias="ENTRA_CLIENT_SECRET")
    entra_tenant_id: str | None = Field(default=None, validation_alias="ENTRA_TENANT_ID")
    entra_authority: str = Field(default="https://login.microsoftonline.com", validation_alias="ENTRA_AUTHORITY")

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int:
        return port_number(value)


def port_number(value: Any) -> int:
    """1-65535; anything else (PORT=99999 included) is refused rather than bound elsewhere."""
    try:
        port = int(str(value).strip())
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ValueError(f"must be a port number from 1 to 65535, not {value!r}")
    return port


_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "DATABASE_URL")


S = TypeVar("S", bound=BaseSettings)


def load(group: type[S], **values: Any) -> S:
    """The settings of ``group`` from the environment (``values``, by their variable names,
    override it), or a SettingsError naming each bad one."""
    try:
        return group(**values)
    except ValidationError as exc:
        raise SettingsError(describe_problems(exc)) from None


def describe_problems(exc: ValidationError) -> str:
    """Each bad setting named with why, on one line; a secret's value is never echoed."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
        secret = any(word in name.upper() for word in _SECRET_WORDS)
        shown = "" if secret or error["type"] == "value_error" else f" (got {error.get('input')!r})"
        problems.append(f"{name} {message}{shown}" if error["type"] == "value_error" else f"{name}: {message}{shown}")
    return "; ".join(problems)


def names(*groups: type[BaseSettings]) -> list[str]:
    """The environment variables ``groups`` read, for each command's help."""
    found: dict[str, None] = {}
    for group in groups:
        for field in group.model_fields.values():
            if isinstance(field.validation_alias, str):
                found[field.validation_alias] = None
    return list(found)
