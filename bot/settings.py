"""Process settings from the environment (and a .env file, if present)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .eventloop import EventLoopChoice


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///escalation-bot.db", validation_alias="DATABASE_URL")
    escalation_config: str = Field(default="escalation.yaml", validation_alias="ESCALATION_CONFIG")
    host: str = Field(default="0.0.0.0", validation_alias="HOST")  # noqa: S104 - a server listens on all interfaces
    port: int = Field(default=3000, validation_alias="PORT")
    log_format: str = Field(default="json", validation_alias="LOG_FORMAT")  # json | text
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    sweep_interval: float = Field(default=5.0, validation_alias="SWEEP_INTERVAL_SECONDS", gt=0)
    dispatch_interval: float = Field(default=1.0, validation_alias="DISPATCH_INTERVAL_SECONDS", gt=0)
    replica_id: str | None = Field(default=None, validation_alias="REPLICA_ID")
    # serve's event loop: uvloop when it is installed (the default on Linux and macOS), else
    # the standard library's; "asyncio" opts out, "uvloop" insists on it.
    event_loop: EventLoopChoice = Field(default="auto", validation_alias="EVENT_LOOP")

    # Slack: on when SLACK_BOT_TOKEN is set (with a signing secret, or an app token for Socket Mode).
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")

    # Microsoft Teams: on when MICROSOFT_APP_ID is set (JWT-validated), or TEAMS_ENABLED without
    # an app id for the Bot Framework Emulator (authentication off, loudly).
    microsoft_app_id: str | None = Field(default=None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: str | None = Field(default=None, validation_alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, validation_alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field(default="MultiTenant", validation_alias="MICROSOFT_APP_TYPE")
    teams_enabled: bool = Field(default=False, validation_alias="TEAMS_ENABLED")
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
