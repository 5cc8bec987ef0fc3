"""`escalation-bot serve`: the port is bound before anything starts, so a port in use is one
line and nothing else happens (no timers, no digest, no Socket Mode connection)."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import socket

from aiohttp import web

from .app import RUNTIME
from .config import Directory, load_config
from .database import migrate, open_store
from .errors import CliError
from .eventloop import loop_name
from .settings import Settings
from .sqlite_lock import AlreadyRunning, SingleProcessLock, sqlite_path

log = logging.getLogger("escalation_bot.cli")


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to host:port and listening, one per address the host stands for."""
    try:
        found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on HOST={host!r}: {exc.strerror}") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # As asyncio does: an IPv6 socket serves IPv6 only, its IPv4 twin the rest.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(128)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} is already in use on {host} (PORT, or serve --port): "
                "stop what listens there, or choose another port"
            ) from None
        raise CliError(f"cannot listen on {host}:{port} (HOST, PORT): {exc.strerror or exc}") from None
    return sockets


async def serve(settings: Settings, *, migrate_first: bool) -> int:
    database = sqlite_path(settings.database_url)
    if database is None:
        return await _serve_locked(settings, migrate_first=migrate_first)
    try:
        with SingleProcessLock(database):
            return await _serve_locked(settings, migrate_first=migrate_first)
    except AlreadyRunning as exc:
        raise CliError(str(exc)) from None


async def _serve_locked(settings: Settings, *, migrate_first: bool) -> int:
    from .wiring import build_server

    directory = load_config(settings.escalation_config)
    sockets = listen(settings.host, settings.port)
    try:
        if migrate_first:
            log.info("migrated", extra={"outcome": await migrate(settings.database_url)})
        store = await open_store(settings.database_url)
        try:
            app = await build_server(settings, directory, store)
        except BaseException:
            await store.close()
            raise
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    # What start-up made (modules, configuration, the app) lives as long as the process:
    # frozen, the collector's full passes skip it. They walked it all before, holding the
    # event loop for 100-200 ms a few times a minute under load (bench/HISTORY.md, fifth pass).
    gc.collect()
    gc.freeze()
    for sock in sockets:
        await web.SockSite(runner, sock).start()
    await _print_console_link(app, directory)
    loop = asyncio.get_running_loop()
    # What the sockets say, not what was asked for: the log names the port really bound.
    bound = [sock.getsockname()[:2] for sock in sockets]
    log.info(
        "listening",
        extra={
            "host": bound[0][0],
            "port": bound[0][1],
            "addresses": [f"{host}:{port}" for host, port in bound],
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
