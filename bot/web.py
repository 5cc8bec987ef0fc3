"""Builds the web console from the settings (adapters/web), over the bot's own database."""

from __future__ import annotations

import secrets

from aiohttp import web

from adapters.web import ConsoleConfig, OidcProvider, WebConsole
from adapters.web.links import PeopleNames, SlackPermalink
from storage.console import ConsoleStore
from workflows.console import OPERATOR
from workflows.model import PersonRef

from .config import ConfigError, Directory
from .config_check import describe_policy
from .runtime import Runtime
from .settings import Settings

WEB_CONSOLE: web.AppKey[WebConsole] = web.AppKey("web_console", WebConsole)


def console_config(settings: Settings) -> ConsoleConfig:
    providers: list[OidcProvider] = []
    slack_id, slack_secret = settings.slack_oidc_client_id, settings.slack_oidc_client_secret
    if slack_id or slack_secret:
        teams = frozenset(t.strip() for t in settings.slack_oidc_teams.split(",") if t.strip())
        if not (slack_id and slack_secret and teams):
            raise ConfigError(
                "Sign in with Slack needs SLACK_OIDC_CLIENT_ID, SLACK_OIDC_CLIENT_SECRET and SLACK_OIDC_TEAMS "
                "(the workspace ids, T0..., whose people may sign in)"
            )
        providers.append(
            OidcProvider("slack", "Slack", "slack", settings.slack_oidc_issuer, slack_id, slack_secret, teams)
        )
    entra_id, entra_secret, tenant = settings.entra_client_id, settings.entra_client_secret, settings.entra_tenant_id
    if entra_id or entra_secret or tenant:
        if not (entra_id and entra_secret and tenant):
            raise ConfigError("Sign in with Microsoft needs ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET and ENTRA_TENANT_ID")
        issuer = f"{settings.entra_authority.rstrip('/')}/{tenant}/v2.0"
        providers.append(
            OidcProvider("entra", "Microsoft", "entra", issuer, entra_id, entra_secret, frozenset({tenant}))
        )
    secret = (settings.console_secret or secrets.token_urlsafe(48)).encode()
    public_url = settings.console_url or f"http://localhost:{settings.port}"
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"CONSOLE_URL must start with http:// or https:// (got {public_url!r})")
    return ConsoleConfig(secret=secret, public_url=public_url.rstrip("/"), providers=tuple(providers))


def build_console(
    settings: Settings,
    runtime: Runtime,
    directory: Directory,
    slack_permalink: SlackPermalink | None = None,
    people_names: PeopleNames | None = None,
) -> WebConsole:
    console_store = ConsoleStore(runtime.store)
    return WebConsole(
        config=console_config(settings),
        service=runtime.service,
        directory=directory,
        queries=console_store,
        links=console_store,
        clock=runtime.clock,
        describe_policy=describe_policy,
        slack_permalink=slack_permalink,
        people_names=people_names,
    )


def first_admin(directory: Directory) -> PersonRef:
    """Whom a sign-in link names when nobody is named: the first configured admin, or the
    local operator (who holds the terminal, and so the database, anyway)."""
    return directory.admins[0] if directory.admins else OPERATOR
