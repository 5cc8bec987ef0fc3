"""Builds the server from settings: which platforms are on, and their senders."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from storage import Store
from workflows.delivery import Sender
from workflows.model import Platform

from .app import build_app
from .config import Directory
from .console import ConsoleSender
from .pacing import Pacer
from .runtime import Runtime
from .settings import Settings

log = logging.getLogger("escalation_bot.wiring")


async def build_server(settings: Settings, directory: Directory, store: Store) -> web.Application:
    senders: dict[Platform, Sender] = {}
    runtime = Runtime(
        store,
        directory,
        senders,
        holder=settings.replica_id,
        sweep_interval=settings.sweep_interval,
        dispatch_interval=settings.dispatch_interval,
        pacer=Pacer(),
    )
    if not senders:
        log.warning("no platform is configured: messages are printed to stdout (set SLACK_* or MICROSOFT_APP_*)")
        runtime.dispatcher.senders[Platform.slack] = ConsoleSender(sys.stdout, runtime.clock, Platform.slack)
        runtime.dispatcher.senders[Platform.teams] = ConsoleSender(sys.stdout, runtime.clock, Platform.teams)
    return build_app(runtime)
