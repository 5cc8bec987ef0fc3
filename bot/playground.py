"""`escalation-bot playground`: every role of a story, played in a browser.

``serve`` on a scratch SQLite database with a sample configuration, on a simulated clock,
with no platform: the playground's senders record what Slack and Teams would be sent, built
by the real renderers, and the page at /playground shows it and turns clicks into the
commands the chat sends. It is a mode of its own: ``serve`` never mounts it, and it refuses
to start where a platform or a real database is configured."""

from __future__ import annotations

import asyncio
import secrets
import signal
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from adapters.slack.views import Listed, home_view
from adapters.web import ConsoleConfig, WebConsole
from adapters.web.playground import Feed, Playground
from storage import Store
from storage.console import ConsoleStore
from workflows.clock import FakeClock
from workflows.decide import card_view
from workflows.model import Escalation, Expert, MessageRef, PersonRef, Platform

from .app import build_app
from .config import parse_config, parse_person
from .config_check import describe_policy
from .config_file import ConfigFile
from .database import open_store
from .errors import CliError
from .migrate import upgrade
from .playground_answers import SlackAnswers, TeamsAnswers
from .playground_senders import PlaygroundSlack, PlaygroundTeams
from .runtime import Runtime
from .serve import listen
from .settings import Settings

SLACK_TEAM = "T0PLAYGROUND"
TEAMS_TENANT = "playground-tenant"
# A Monday morning: the story starts at the beginning of a working day.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PLAYGROUND_CONFIG = f"""
defaults:
  policy: {{nudge_after: 15m, assign_after: 1h, owner_reminder_after: 1h, reassign_after: 2h,
           requester_reminder_after: 1d, deflection_wait: 10m, digest_when_empty: skip}}
people:
  - {{name: Sam (support), slack: U0SAM}}
  - {{name: Ada, slack: U0ADA, teams: "29:ada"}}
  - {{name: Ben, slack: U0BEN}}
  - {{name: Chen, teams: "29:chen"}}
  - {{name: Dana, teams: "29:dana"}}
  - {{name: Lee (lead), slack: U0LEE, teams: "29:lee"}}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {{channel: C0SDKEXPERTS, team: {SLACK_TEAM}}}
    teams: {{channel: "19:sdk-experts@thread.tacv2", team: "19:play@thread.tacv2", tenant: {TEAMS_TENANT}}}
    experts: ["slack:U0ADA", "slack:U0BEN", "teams:29:chen", "teams:29:dana"]
    lead: "slack:U0LEE"
    rotation: round_robin
    policy:
      business_hours: {{timezone: Europe/London, start: "09:00", end: "17:30"}}
  - key: billing
    name: Billing
    slack: {{channel: C0BILLING, team: {SLACK_TEAM}}}
    teams: {{channel: "19:billing@thread.tacv2", team: "19:play@thread.tacv2", tenant: {TEAMS_TENANT}}}
    experts: ["slack:U0BEN", "teams:29:dana"]
    lead: "slack:U0LEE"
    rotation: least_loaded
"""


def sample_people() -> list[Expert]:
    """Everyone of the sample configuration, as the "you are" picker offers them."""
    config = ConfigFile.model_validate(yaml.safe_load(PLAYGROUND_CONFIG))
    people = []
    for spec in config.people:
        refs = tuple(
            parse_person(f"{platform}:{ident}").model_copy(update={"name": spec.name})
            for platform, ident in (("slack", spec.slack), ("teams", spec.teams))
            if ident
        )
        people.append(Expert(key=refs[0].key, refs=refs, name=spec.name))
    return people


def refuse_outside_playground(settings: Settings) -> None:
    """The playground lets anyone holding its link act as anyone: never next to a real platform
    or a real database."""
    platforms = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        "SLACK_APP_TOKEN": settings.slack_app_token,
        "MICROSOFT_APP_ID": settings.microsoft_app_id,
        "MICROSOFT_APP_PASSWORD": settings.microsoft_app_password,
        "TEAMS_ENABLED": settings.teams_enabled,
    }
    configured = [name for name, value in platforms.items() if value]
    if configured:
        raise CliError(
            f"the playground runs with no platform, but {', '.join(configured)} is set: "
            "unset it (or run the playground from another folder, without this .env)"
        )
    if "database_url" in settings.model_fields_set:
        raise CliError(
            "the playground makes its own scratch SQLite database, but DATABASE_URL is set (the bot's real "
            "database): unset it, or name a scratch file with playground --database"
        )


async def build_playground(
    store: Store, public_url: str, clock: FakeClock | None = None
) -> tuple[web.Application, Playground]:
    clock = clock or FakeClock(START)
    directory = parse_config(PLAYGROUND_CONFIG, "playground")
    feed = Feed()
    page = f"{public_url.rstrip('/')}/playground/"
    senders = {
        Platform.slack: PlaygroundSlack(feed, clock, page),
        Platform.teams: PlaygroundTeams(feed, clock, directory),
    }
    runtime = Runtime(store, directory, senders, clock=clock, holder="playground")

    async def settle() -> None:
        # Each tick may make the next step due at once (a long jump of the clock): until none is.
        for _ in range(50):
            await runtime.dispatch()
            if not await runtime.sweep():
                break
        await runtime.digest()
        await runtime.dispatch()

    async def slack_home(person: PersonRef) -> dict[str, Any]:
        """The App Home tab as ``adapters/slack/home.SlackHome`` publishes it."""
        home = await runtime.service.home_opened(person)

        def listed(escalations: list[Escalation]) -> list[Listed]:
            def url(cards: list[MessageRef]) -> str | None:
                card = next((c for c in cards if c.platform == Platform.slack), None)
                return f"{page}#m{card.id}" if card else None

            return [Listed(card_view(esc), url(home.cards.get(esc.id, []))) for esc in escalations]

        return home_view(listed(home.requested), listed(home.held), clock.now())

    # The web console over the same story; its links and sessions run on the story's clock.
    queries = ConsoleStore(store)
    console = WebConsole(
        ConsoleConfig(secret=secrets.token_bytes(32), public_url=public_url),
        runtime.service,
        directory,
        queries,
        queries,
        clock,
        describe_policy,
    )

    playground = Playground(
        service=runtime.service,
        feed=feed,
        clock=clock,
        people=sample_people(),
        tenants={Platform.slack: SLACK_TEAM, Platform.teams: TEAMS_TENANT},
        settle=settle,
        public_url=public_url,
        answers={Platform.slack: SlackAnswers(directory, page), Platform.teams: TeamsAnswers(directory)},
        home=slack_home,
        console_link=console.new_link,
    )
    # The clock moves only when someone moves it, and every click settles what it caused:
    # no scheduler runs beside the page.
    app = build_app(runtime, mounts=[playground.mount, console.mount], start_jobs=False)
    # The story starts at 09:00 on a Monday with empty channels: that morning's digest has
    # nothing to say; the next morning's tells what happened.
    await runtime.digest()

    return app, playground


def database_file(database: str | None, scratch: str) -> Path:
    path = Path(database).expanduser().absolute() if database else Path(scratch) / "playground.db"
    if not path.parent.is_dir():
        raise CliError(f"--database names a file in {path.parent}, a folder that does not exist")
    return path


async def run_playground(settings: Settings, port: int, database: str | None) -> int:
    refuse_outside_playground(settings)
    with tempfile.TemporaryDirectory(prefix="escalation-playground-") as scratch:
        path = database_file(database, scratch)
        url = f"sqlite:///{path}"
        sockets = listen("127.0.0.1", port)
        try:
            await upgrade(url)
            store = await open_store(url)
            # The address it listens on: "localhost" may name ::1 first.
            app, playground = await build_playground(store, f"http://127.0.0.1:{port}")
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        where = f"database {path}" if database else "a scratch database, deleted when you stop"
        print(f"playground: open {playground.link}", flush=True)
        print(f"  Slack and Teams side by side, on a simulated clock and {where}; Ctrl-C stops it.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()
    return 0
