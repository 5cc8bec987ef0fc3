"""The `escalation-bot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from storage import Store

from .config import ConfigError, describe_policy, load_config
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
    outbox = sub.add_parser("outbox", help="inspect undelivered messages and retry failed ones")
    outbox_sub = outbox.add_subparsers(dest="outbox_command")
    listing = outbox_sub.add_parser("list", help="list outbox rows (default: failed ones)")
    listing.add_argument("--status", default="failed", choices=["failed", "pending", "sent", "all"])
    listing.add_argument("--limit", type=int, default=50)
    retry = outbox_sub.add_parser("retry", help="queue failed rows for delivery again")
    retry.add_argument("ids", nargs="*", type=int, help="row ids (default: every failed row)")
    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate the YAML and print each community's effective policy")
    check.add_argument("path", nargs="?", help="configuration file (default: ESCALATION_CONFIG)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    try:
        if args.command == "demo":
            from .demo import run_demo

            setup_logging("text", "WARNING")
            return asyncio.run(run_demo())
        setup_logging(settings.log_format, settings.log_level)
        if args.command == "config":
            return _config_check(args.path or settings.escalation_config)
        if args.command == "outbox":
            return asyncio.run(_outbox(settings, args))
        if args.command == "migrate":
            asyncio.run(upgrade(settings.database_url))
            print(f"database is up to date: {_safe_url(settings.database_url)}")
            return 0
        if args.command == "serve":
            if args.port:
                settings.port = args.port
            return asyncio.run(_serve(settings, migrate=args.migrate))
    except (ConfigError, CliError, SchemaNotCurrent) as exc:
        print(f"escalation-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from workflows.clock import SystemClock

    store = Store(settings.database_url)
    try:
        try:
            await check_current(store.engine)
        except SchemaNotCurrent:
            raise
        except Exception as exc:
            raise CliError(f"cannot reach the database {_safe_url(settings.database_url)}: {exc}") from None
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
    store = Store(settings.database_url)
    try:
        await check_current(store.engine)
    except SchemaNotCurrent:
        await store.close()
        raise
    except Exception as exc:
        await store.close()
        raise CliError(f"cannot reach the database {_safe_url(settings.database_url)}: {exc}") from None
    app = await build_server(settings, directory, store)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("listening", extra={"host": settings.host, "port": settings.port})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    # Stops accepting, lets in-flight requests finish, then runs cleanup (scheduler, db).
    await runner.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
