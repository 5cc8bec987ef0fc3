"""The `escalation-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import textwrap
from collections.abc import Sequence

from pydantic_settings import BaseSettings

from . import settings as env
from .config import ConfigError, load_config
from .errors import CliError
from .eventloop import LoopUnavailable, loop_factory
from .logs import setup_logging
from .migrate import SchemaNotCurrent
from .report import LEGEND, TABLES

DEMO_PORT = 3000  # the demo's console, when no port is given (any free one if it is taken)

__all__ = ["CliError", "main"]

# What each command reads from the environment (and .env): only these are validated for it,
# so a wrong PORT stops `serve` and nothing else. Each command's --help lists them.
READS: dict[str, tuple[type[BaseSettings], ...]] = {
    "serve": (env.Settings,),
    "migrate": (env.DatabaseSettings, env.LogSettings),
    "demo": (),
    # Read only to refuse: the playground never runs beside a platform or a real database.
    "playground": (env.Settings,),
    "report": (env.DatabaseSettings, env.ConfigFileSettings, env.LogSettings),
    "outbox": (env.DatabaseSettings, env.LogSettings),
    "config": (env.ConfigFileSettings, env.PlatformSettings, env.SlackApiSettings),
    # The link is made for the address serve is reached at (CONSOLE_URL, else PORT).
    "console-link": (env.Settings,),
    "teams-package": (),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("escalation-bot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, epilog: str = ""
) -> argparse.ArgumentParser:
    names = env.names(*READS[name])
    reads = f"Settings read (environment or .env): {', '.join(names)}." if names else "Reads no settings."
    paragraphs = [*epilog.splitlines(), "", reads] if epilog else [reads]
    return sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog="\n".join(textwrap.fill(p, 79, subsequent_indent="  ") for p in paragraphs),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalation-bot",
        description="Carries hard customer questions from support staff to experts, in Slack and Microsoft Teams.",
    )
    parser.add_argument("--version", action="version", version=f"escalation-bot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = _command(sub, "serve", "run the bot (HTTP endpoints, timers, delivery)")
    serve.add_argument("--migrate", action="store_true", help="create or upgrade the database schema first")
    serve.add_argument("--port", type=_port, help="port to listen on, 1-65535 (default: PORT, else 3000)")
    _command(sub, "migrate", "create or upgrade the database schema, and say what was done")
    demo = _command(
        sub,
        "demo",
        "run a whole escalation story on a simulated clock, in the terminal",
        "In a terminal it then serves the web console over the story's database and prints a link "
        "to the demo's escalation (Ctrl-C to stop); elsewhere (a pipe, CI) it ends after the story.",
    )
    shown = demo.add_mutually_exclusive_group()
    shown.add_argument(
        "--console",
        nargs="?",
        const=DEMO_PORT,
        type=_port,
        metavar="PORT",
        help=f"then serve the web console on PORT (default {DEMO_PORT}), even when not in a terminal",
    )
    shown.add_argument("--no-console", action="store_true", help="end after the story, even in a terminal")
    playground = _command(
        sub,
        "playground",
        "play every role in a browser: Slack and Teams side by side, on a simulated clock",
        "Starts on 127.0.0.1 with a sample configuration and a scratch SQLite database, no platform; "
        "prints the link to open. Refuses to start when a platform or DATABASE_URL is configured.",
    )
    playground.add_argument("--port", type=_port, default=8765, help="port to listen on (default 8765)")
    playground.add_argument("--database", help="keep the story in this SQLite file (default: a scratch one)")
    report = _command(sub, "report", "escalation figures over a period: speed, pull vs push, load", "\n".join(LEGEND))
    report.add_argument("--since", default="30d", help="how far back: 30d, 12h, 2w, or a past date (default 30d)")
    report.add_argument("--community", help="only this community (its key, as in the configuration)")
    report.add_argument("--format", default="table", choices=["table", "csv", "json"], help="output (default table)")
    report.add_argument(
        "--table", choices=TABLES, help="only this table; CSV is one table, communities unless this says experts"
    )
    report.add_argument("--wide", action="store_true", help="every column (the plain table fits 100 columns)")
    outbox = _command(sub, "outbox", "inspect undelivered messages and retry failed ones")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    listing = outbox_sub.add_parser("list", help="list outbox rows (the default: failed ones)")
    listing.add_argument(
        "--status", default="failed", choices=["failed", "pending", "sent", "all"], help="which rows (default failed)"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    listing.add_argument("--format", default="table", choices=["table", "json"], help="output (default table)")
    retry = outbox_sub.add_parser("retry", help="queue failed rows for delivery again")
    retry.add_argument("ids", nargs="*", type=int, help="row ids (default: every failed row)")
    link = _command(sub, "console-link", "print a one-time sign-in link for the web console (15 minutes)")
    link.add_argument(
        "--as", dest="person", help="whom it signs in: slack:T0TEAM/U0123 or teams:<id> (default: an admin)"
    )
    config = _command(sub, "config", "configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate the YAML and print each community's effective policy")
    check.add_argument("path", nargs="?", help="configuration file (default: ESCALATION_CONFIG, else escalation.yaml)")
    check.add_argument(
        "--strict", action="store_true", help="refuse (exit 1) when there are warnings, such as a channel not used"
    )
    _add_teams_package(sub)
    return parser


def _port(text: str) -> int:
    try:
        return env.port_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_teams_package(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    package = _command(sub, "teams-package", "write the Microsoft Teams app package (zip) to upload")
    package.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (MICROSOFT_APP_ID), a GUID")
    package.add_argument("--host", required=True, help="the bot's public host name, like bot.example.com")
    package.add_argument("--teams-app-id", help="the Teams app's own id (default: the same as --app-id)")
    package.add_argument("--version", default="1.0.0", help="app version; raise it for every upload (default 1.0.0)")
    package.add_argument("--name", default="Escalations", help="the app's short name in Teams (at most 30 characters)")
    package.add_argument(
        "--privacy-url", help="the privacy statement's URL (default: https://<host>/privacy, served by the bot)"
    )
    package.add_argument(
        "--terms-url", help="the terms of use's URL (default: https://<host>/terms, served by the bot)"
    )
    package.add_argument("--output", "-o", default="escalation-bot-teams.zip", help="zip file to write")


def _teams_package(args: argparse.Namespace) -> int:
    from adapters.teams.package import PackageError, write_package

    try:
        path = write_package(
            args.output,
            app_id=args.app_id,
            host=args.host,
            teams_app_id=args.teams_app_id,
            version=args.version,
            name=args.name,
            privacy_url=args.privacy_url,
            terms_url=args.terms_url,
        )
    except PackageError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.output} (--output): {exc.strerror or exc}") from None
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except (ConfigError, CliError, env.SettingsError, SchemaNotCurrent, LoopUnavailable) as exc:
        print(f"escalation-bot: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`config check | head -1`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from .demo import run_demo

        setup_logging("text", "WARNING")
        if args.console is not None:
            return asyncio.run(run_demo(console_port=args.console))
        # In a terminal, someone is there to open the link; in a pipe or CI, nobody would
        # stop the server, so the demo ends after the story and says how to get a link.
        here = not args.no_console and sys.stdin.isatty() and sys.stdout.isatty()
        return asyncio.run(run_demo(console_port=DEMO_PORT if here else None, any_port=here))
    if args.command == "playground":
        from .playground import run_playground

        settings = env.load(env.Settings)
        setup_logging("text", "WARNING")
        return asyncio.run(run_playground(settings, args.port, args.database))
    if args.command == "teams-package":
        return _teams_package(args)
    if args.command == "config":
        from .config_check import check

        path = args.path or env.load(env.ConfigFileSettings).escalation_config
        platforms, api = env.load(env.PlatformSettings), env.load(env.SlackApiSettings)
        slack = (platforms.slack_bot_token, api.slack_api_url)
        try:
            database = env.load(env.DatabaseSettings)
            database_url: str | None = database.database_url
            # What the file would change: only for a database named (environment or .env), not the default file.
            named = database_url if "database_url" in database.model_fields_set else None
        except env.SettingsError:
            database_url = named = None  # checking the file does not need the database
        return check(
            path, platforms.platforms(), strict=args.strict, slack=slack, database_url=database_url, what_if_url=named
        )
    if args.command == "serve":
        from .serve import serve

        overrides = {"PORT": args.port} if args.port else {}
        settings = env.load(env.Settings, **overrides)
        factory = loop_factory(settings.event_loop)
        setup_logging(settings.log_format, settings.log_level)
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(serve(settings, migrate_first=args.migrate))
    if args.command == "console-link":
        from .console_link import console_link

        settings = env.load(env.Settings)
        setup_logging(settings.log_format, settings.log_level)
        return asyncio.run(console_link(settings, args.person))
    database, logs = env.load(env.DatabaseSettings), env.load(env.LogSettings)
    setup_logging(logs.log_format, logs.log_level)
    if args.command == "migrate":
        from .database import migrate

        print(asyncio.run(migrate(database.database_url)))
        return 0
    if args.command == "report":
        from .report import run_report

        # Names people as the configuration calls them today; a bot run without the file
        # still reports, with the names the escalations recorded.
        config = env.load(env.ConfigFileSettings).escalation_config
        directory = load_config(config) if os.path.exists(config) else None
        text = asyncio.run(
            run_report(
                database.database_url,
                directory,
                since_text=args.since,
                community=args.community,
                fmt=args.format,
                table=args.table,
                wide=args.wide,
            )
        )
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    from .outbox_cli import run_outbox

    return asyncio.run(run_outbox(database.database_url, args))


if __name__ == "__main__":
    raise SystemExit(main())
