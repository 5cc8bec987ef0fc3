"""Builds the server from settings: which platforms are on, and their senders."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.slack import SlackPlatform
from adapters.teams import DEFAULT_SERVICE_URL_ALLOWLIST, TeamsConfig, TeamsIntegration
from storage import Store
from storage.teams_conversations import TeamsConversationStore
from workflows.clock import Clock
from workflows.delivery import Sender
from workflows.model import Platform

from .app import build_app
from .config import ConfigError, Directory
from .config_check import serving
from .console import ConsoleSender
from .legal import DEFAULT_PRIVACY, DEFAULT_TERMS, legal_pages, read_text
from .loopwatch import LoopWatch
from .pacing import Pacer, SharedPacer
from .reload import ConfigReloader
from .runtime import Runtime, default_holder
from .settings import Settings
from .web import WEB_CONSOLE, build_console

log = logging.getLogger("escalation_bot.wiring")


async def build_server(
    settings: Settings, directory: Directory, store: Store, *, clock: Clock | None = None, start_jobs: bool = True
) -> web.Application:
    senders: dict[Platform, Sender] = {}
    enabled = settings.platforms()
    directory = serving(directory, enabled, log)
    holder = settings.replica_id or default_holder()
    # Several replicas share PostgreSQL, and a channel's limit is the channel's: paced in the
    # database there. SQLite runs one process, whose own pacer knows every send.
    pacer = Pacer() if store.is_sqlite else SharedPacer(store, holder)
    runtime = Runtime(
        store,
        directory,
        senders,
        clock=clock,
        holder=holder,
        sweep_interval=settings.sweep_interval,
        dispatch_interval=settings.dispatch_interval,
        pacer=pacer,
    )
    runtime.config_reloader = ConfigReloader(runtime, settings.escalation_config, platforms=enabled)
    mounts: list[Callable[[web.Application], None]] = []
    slack = _enable_slack(settings, runtime)
    if slack is not None:
        mounts.append(slack.mount)
    teams = _enable_teams(settings, runtime, store)
    if teams is not None:
        mounts.append(teams.mount)
    if not runtime.dispatcher.senders:
        log.warning("no platform is configured: messages are printed to stdout (set SLACK_* or MICROSOFT_APP_*)")
        runtime.dispatcher.senders[Platform.slack] = ConsoleSender(sys.stdout, runtime.clock, Platform.slack)
        runtime.dispatcher.senders[Platform.teams] = ConsoleSender(sys.stdout, runtime.clock, Platform.teams)
    console = build_console(
        settings,
        runtime,
        directory,
        slack.links.archive_url if slack is not None else None,
        slack.names.names if slack is not None else None,
    )
    mounts.append(console.mount)
    pages = legal_pages(
        read_text(settings.privacy_file, "PRIVACY_FILE", DEFAULT_PRIVACY),
        read_text(settings.terms_file, "TERMS_FILE", DEFAULT_TERMS),
    )
    app = build_app(runtime, mounts=mounts, pages=pages, start_jobs=start_jobs)
    app[WEB_CONSOLE] = console
    watch = LoopWatch(runtime.metrics.loop_lag.observe)

    async def watching(_: web.Application) -> None:
        watch.start()

    async def unwatching(_: web.Application) -> None:
        await watch.stop()

    app.on_startup.append(watching)
    app.on_cleanup.append(unwatching)
    if slack is not None:
        # After the runtime's own cleanup, so in-flight deliveries finish with an open session.
        app.on_cleanup.append(_closer(slack))
    return app


def _enable_slack(settings: Settings, runtime: Runtime) -> SlackPlatform | None:
    """Slack is on when its token is set; half a configuration is refused, not guessed at."""
    token, secret, app_token = settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token
    if not (token or secret or app_token):
        return None
    if not token:
        raise ConfigError(
            "Slack is half-configured: SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"
        )
    if not secret and not app_token:
        raise ConfigError(
            "Slack is half-configured: SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not "
            "(set it, or SLACK_APP_TOKEN for Socket Mode)"
        )
    slack = SlackPlatform(
        service=runtime.service,
        clock=runtime.clock,
        bot_token=token,
        signing_secret=secret,
        api_url=settings.slack_api_url,
        app_token=app_token,
    )
    runtime.dispatcher.senders[Platform.slack] = slack.sender
    log.info("slack enabled", extra={"socket_mode": bool(app_token), "http_events": bool(secret)})
    return slack


def _closer(slack: SlackPlatform) -> Callable[[web.Application], Awaitable[None]]:
    async def close(_: web.Application) -> None:
        await slack.close()

    return close


def _enable_teams(settings: Settings, runtime: Runtime, store: Store) -> TeamsIntegration | None:
    """Teams is on with MICROSOFT_APP_ID (every request JWT-validated), or with TEAMS_ENABLED and
    no app id for the Bot Framework Emulator, with authentication off."""
    app_id = (settings.microsoft_app_id or "").strip()
    if not app_id and not settings.teams_enabled:
        if settings.microsoft_app_password:
            raise ConfigError("Teams is half-configured: MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not")
        return None
    if app_id and not settings.microsoft_app_password:
        raise ConfigError("Teams is half-configured: MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not")
    app_type = settings.microsoft_app_type.strip() or "MultiTenant"
    if app_type.lower() == "singletenant" and not settings.microsoft_app_tenant_id:
        raise ConfigError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID")
    allowlist = tuple(u.strip() for u in settings.teams_service_url_allowlist.split(",") if u.strip())
    config = TeamsConfig(
        app_id=app_id,
        app_password=settings.microsoft_app_password or "",
        app_tenant_id=settings.microsoft_app_tenant_id or "",
        app_type=app_type,
        service_url_allowlist=allowlist or DEFAULT_SERVICE_URL_ALLOWLIST,
    )
    teams = TeamsIntegration(config, runtime.service, TeamsConversationStore(store))
    runtime.dispatcher.senders[Platform.teams] = teams.sender
    log.info("teams enabled", extra={"authentication": config.auth_enabled, "app_type": app_type})
    return teams
