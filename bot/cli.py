"""The `escalation-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web
from pydantic import ValidationError

from storage import Store

from .app import RUNTIME
from .config import ConfigError, Directory, describe_policy, load_config
from .eventloop import LoopUnavailable, loop_factory, loop_name
from .logs import setup_logging
from .migrate import SchemaNotCurrent, check_current, upgrade
from .settings import Settings
from .sqlite_lock import AlreadyRunning, SingleProcessLock, sqlite_path

log = logging.getLogger("escalation_bot.cli")


class CliError(Exception):
    """A problem the operator can fix; printed without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalation-bot",
        description="Carries hard customer questions from support staff to experts, in Slack and Microsoft Teams.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the bot (HTTP endpoints, timers, delivery)")
    serve.add_argument("--migrate", action="store_true", help="upgrade the database first")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 3000)")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("demo", help="run a whole escalation story on a simulated clock, in the terminal")
    report = sub.add_parser("report", help="escalation figures over a period: speed, pull vs push, load")
    report.add_argument("--since", default="30d", help="how far back: 30d, 12h, 2w, or a date (default 30d)")
    report.add_argument("--community", help="only this community")
    report.add_argument("--format", default="table", choices=["table", "csv", "json"])
    outbox = sub.add_parser("outbox", help="inspect undelivered messages and retry failed ones")
    outbox_sub = outbox.add_subparsers(dest="outbox_command")
    listing = outbox_sub.add_parser("list", help="list outbox rows (default: failed ones)")
    listing.add_argument("--status", default="failed", choices=["failed", "pending", "sent", "all"])
    listing.add_argument("--limit", type=int, default=50)
    retry = outbox_sub.add_parser("retry", help="queue failed rows for delivery again")
    retry.add_argument("ids", nargs="*", type=int, help="row ids (default: every failed row)")
    link = sub.add_parser("console-link", help="print a one-time sign-in link for the web console (15 minutes)")
    link.add_argument(
        "--as", dest="person", help="whom it signs in: slack:T0TEAM/U0123 or teams:<id> (default: an admin)"
    )
    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate the YAML and print each community's effective policy")
    check.add_argument("path", nargs="?", help="configuration file (default: ESCALATION_CONFIG)")
    _add_teams_package(sub)
    return parser


def _add_teams_package(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    package = sub.add_parser("teams-package", help="write the Microsoft Teams app package (zip) to upload")
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
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"escalation-bot: {_settings_problem(exc)}", file=sys.stderr)
        return 2
    try:
        if args.command == "demo":
            from .demo import run_demo

            setup_logging("text", "WARNING")
            return asyncio.run(run_demo())
        setup_logging(settings.log_format, settings.log_level)
        if args.command == "teams-package":
            return _teams_package(args)
        if args.command == "config":
            return _config_check(args.path or settings.escalation_config)
        if args.command == "report":
            return asyncio.run(_report(settings, args))
        if args.command == "outbox":
            return asyncio.run(_outbox(settings, args))
        if args.command == "console-link":
            return asyncio.run(_console_link(settings, args.person))
        if args.command == "migrate":
            asyncio.run(upgrade(settings.database_url))
            print(f"database is up to date: {_safe_url(settings.database_url)}")
            return 0
        if args.command == "serve":
            if args.port:
                settings.port = args.port
            try:
                factory = loop_factory(settings.event_loop)
            except LoopUnavailable as exc:
                raise CliError(str(exc)) from None
            with asyncio.Runner(loop_factory=factory) as runner:
                return runner.run(_serve(settings, migrate=args.migrate))
    except (ConfigError, CliError, SchemaNotCurrent) as exc:
        print(f"escalation-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "DATABASE_URL")


def _settings_problem(exc: ValidationError) -> str:
    """Which environment settings are wrong and why, one per line; secrets are not echoed."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        shown = "" if any(word in name.upper() for word in _SECRET_WORDS) else f" (got {error.get('input')!r})"
        lines.append(f"{name}: {error['msg']}{shown}")
    return "bad setting in the environment or .env:\n  " + "\n  ".join(lines)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    from workflows.clock import SystemClock
    from workflows.metrics import parse_since

    from .report import build_report, render

    now = SystemClock().now()
    try:
        since = parse_since(args.since, now)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    store = await _open_store(settings)
    try:
        report = await build_report(store, since, now, args.community)
    finally:
        await store.close()
    print(render(report, args.format))
    return 0


async def _open_store(settings: Settings) -> Store:
    """A store on a reachable, migrated database, or a clear error."""
    store = Store(settings.database_url)
    try:
        await check_current(store.engine)
    except SchemaNotCurrent:
        await store.close()
        raise
    except Exception as exc:
        await store.close()
        raise CliError(f"cannot reach the database {_safe_url(settings.database_url)}: {exc}") from None
    return store


async def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from workflows.clock import SystemClock

    store = await _open_store(settings)
    try:
        if args.outbox_command == "retry":
            async with store.unit_of_work() as uow:
                count = await uow.outbox.retry_failed(SystemClock().now(), args.ids or None)
            print(f"{count} failed row(s) queued for delivery again")
            return 0
        status = getattr(args, "status", "failed")
        limit = getattr(args, "limit", 50)
        async with store.unit_of_work() as uow:
            rows = await uow.outbox.list(None if status == "all" else status, limit)
            counts = await uow.outbox.counts()
        print("outbox: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty"))
        if not rows:
            print(f"no {status} rows" if status != "all" else "no rows")
            return 0
        print(f"{'id':>6}  {'status':<8} {'kind':<13} {'target':<24} {'tries':>5}  {'created (UTC)':<19}  error")
        for row in rows:
            print(
                f"{row.id:>6}  {row.status:<8} {row.kind:<13} {(row.platform + ':' + row.target)[:24]:<24} "
                f"{row.attempts:>5}  {row.created_at:%Y-%m-%d %H:%M:%S}  {(row.last_error or '')[:80]}"
            )
        if status == "failed":
            print("retry with: escalation-bot outbox retry [ID ...]")
        return 0
    finally:
        await store.close()


async def _console_link(settings: Settings, person_text: str | None) -> int:
    from .config import parse_person
    from .runtime import Runtime
    from .web import build_console, first_admin

    directory = load_config(settings.escalation_config)
    try:
        person = parse_person(person_text) if person_text else first_admin(directory)
    except ValueError as exc:
        raise CliError(f"--as: {exc}") from None
    store = await _open_store(settings)
    try:
        console = build_console(settings, Runtime(store, directory, {}), directory)
        print(await console.new_link(person))
    finally:
        await store.close()
    return 0


def _config_check(path: str) -> int:
    directory = load_config(path)
    print(f"{path}: OK, {len(directory.all())} communities\n")
    for community in directory.all():
        print("\n".join(describe_policy(community)))
        print()
    return 0


async def _serve(settings: Settings, *, migrate: bool) -> int:
    database = sqlite_path(settings.database_url)
    if database is None:
        return await _serve_locked(settings, migrate=migrate)
    try:
        with SingleProcessLock(database):
            return await _serve_locked(settings, migrate=migrate)
    except AlreadyRunning as exc:
        raise CliError(str(exc)) from None


async def _serve_locked(settings: Settings, *, migrate: bool) -> int:
    from .wiring import build_server

    directory = load_config(settings.escalation_config)
    if migrate:
        await upgrade(settings.database_url)
    store = await _open_store(settings)
    app = await build_server(settings, directory, store)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    # What start-up made (modules, configuration, the app) lives as long as the process:
    # frozen, the collector's full passes skip it. They walked it all before, holding the
    # event loop for 100-200 ms a few times a minute under load (bench/HISTORY.md, fifth pass).
    gc.collect()
    gc.freeze()
    await site.start()
    await _print_console_link(app, directory)
    loop = asyncio.get_running_loop()
    log.info(
        "listening",
        extra={
            "host": settings.host,
            "port": settings.port,
            "gc_frozen": gc.get_freeze_count(),
            "event_loop": loop_name(loop),
        },
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloader = app[RUNTIME].config_reloader
    if reloader is not None:
        loop.add_signal_handler(signal.SIGHUP, reloader.on_signal)
    await stop.wait()
    log.info("shutting down")
    # Stops accepting, lets in-flight requests finish, then runs cleanup (scheduler, db).
    await runner.cleanup()
    return 0


async def _print_console_link(app: web.Application, directory: Directory) -> None:
    """With no identity provider configured, the one way in: a link printed here."""
    from .web import WEB_CONSOLE, first_admin

    console = app[WEB_CONSOLE]
    if console.config.providers:
        return
    person = first_admin(directory)
    link = await console.new_link(person)
    print(f"web console: sign in as {person.label()} at {link} (one-time link, valid 15 minutes)", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
