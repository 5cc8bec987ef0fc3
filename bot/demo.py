"""`escalation-bot demo`: one whole escalation story on a simulated clock.

It runs the real service, a real SQLite database (a temporary file), the real outbox
and dispatcher; only the platform is a console that prints what people would see.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from storage import Store
from workflows.clock import FakeClock, SystemClock
from workflows.commands import Accept, Reply, Resolve
from workflows.console import OPERATOR
from workflows.escalate_reactions import escalate_message
from workflows.model import MessageRef, PersonRef, Platform

from .config import Directory, parse_config
from .console import ConsoleSender
from .migrate import upgrade
from .runtime import Runtime

DEMO_CONFIG = """
defaults:
  policy: {nudge_after: 30m, assign_after: 2h, owner_reminder_after: 1h, reassign_after: 2h,
           requester_reminder_after: 1d}
people:
  - {name: Ada, slack: U0ADA}
  - {name: Ben, slack: U0BEN}
  - {name: Chen, slack: U0CHEN}
  - {name: Lee, slack: U0LEE}
  - {name: Sam, slack: U0SAM}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDKEXPERTS}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
    lead: "slack:U0LEE"
    rotation: round_robin
escalate_reactions: {sos: sdk}
"""


class Story:
    def __init__(self, runtime: Runtime, clock: FakeClock, out: TextIO) -> None:
        self.runtime = runtime
        self.clock = clock
        self.out = out

    def say(self, text: str) -> None:
        self.out.write(f"\n== {text}\n")

    async def settle(self) -> None:
        """Run due timers, then deliver everything the outbox holds."""
        await self.runtime.sweep()
        await self.runtime.dispatch()

    async def wait(self, delta: timedelta, why: str) -> None:
        self.clock.advance(delta)
        self.say(f"{why} (clock: {self.clock.now():%a %H:%M} UTC)")
        await self.settle()


def person(ident: str, name: str) -> PersonRef:
    return PersonRef(platform=Platform.slack, id=ident, tenant="T0DEMO", name=name)


# What the demo says when it does not serve the console: one line, a command that does.
NO_CONSOLE = (
    "\nTo see this story in the web console, run the demo in a terminal, or: "
    "python3 tasks.py demo --console (installed: escalation-bot demo --console)\n"
)


async def run_demo(out: TextIO = sys.stdout, console_port: int | None = None, *, any_port: bool = False) -> int:
    """The story; then, with ``console_port``, the web console over its database until
    interrupted (on any free port instead, with ``any_port``, when that one is taken)."""
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    directory = parse_config(DEMO_CONFIG, "demo")
    with tempfile.TemporaryDirectory(prefix="escalation-demo-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        await upgrade(url)
        store = Store(url)
        sender = ConsoleSender(out, clock, Platform.slack)
        runtime = Runtime(store, directory, {Platform.slack: sender}, clock=clock, holder="demo")
        story = Story(runtime, clock, out)
        sam, ada, chen = person("U0SAM", "Sam"), person("U0ADA", "Ada"), person("U0CHEN", "Chen")
        try:
            story.say("Ada is at an offsite until Wednesday: /escalate away until wednesday offsite")
            said = await runtime.service.presence.away(ada, "until wednesday offsite")
            out.write(f"  (to Ada alone) {said.text}\n")
            story.say(
                "Sam (support) escalates a customer's message in #C0SUPPORT with the :sos: emoji: "
                "it goes to the Mobile SDK experts in #C0SDKEXPERTS"
            )
            asked = MessageRef(platform=Platform.slack, channel="C0SUPPORT", id="1772442000.000100", tenant="T0DEMO")
            outcome = await escalate_message(
                runtime.service,
                requester=sam,
                community_key="sdk",
                question="Customer ACME: the iOS SDK crashes on launch after upgrading to 5.2 <!channel>",
                customer="Message by Dana (ACME Corp)",
                source=asked,
                thread=asked.id,
            )
            esc = outcome.escalation
            assert esc is not None
            await story.settle()
            await story.wait(timedelta(minutes=30), "30 minutes pass and nobody answers: the bot nudges")
            await story.wait(
                timedelta(minutes=90), "2 hours without an answer: the bot assigns by rotation, passing over Ada (away)"
            )
            await story.wait(timedelta(hours=1), "Ben stays silent for an hour: a private reminder")
            await story.wait(timedelta(hours=1), "Still silent after 2 hours: the bot reassigns to the next expert")

            story.say("Chen accepts from his DM")
            await runtime.service.handle(Accept(id="demo-accept", escalation_id=esc.id, actor=chen))
            await story.settle()

            clock.advance(timedelta(minutes=20))
            story.say("Chen answers in the thread")
            await runtime.service.handle(
                Reply(
                    id="demo-reply",
                    escalation_id=esc.id,
                    actor=chen,
                    text="5.2 needs the new privacy manifest; add PrivacyInfo.xcprivacy and it launches.",
                )
            )
            await story.settle()

            clock.advance(timedelta(minutes=15))
            story.say("Sam confirms with the customer and resolves it with the answer")
            await runtime.service.handle(
                Resolve(
                    id="demo-resolve",
                    escalation_id=esc.id,
                    actor=sam,
                    answer="Add PrivacyInfo.xcprivacy (required since SDK 5.2).",
                )
            )
            await story.settle()

            clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
            story.say(f"The next morning, the daily digest (clock: {clock.now():%a %H:%M} UTC)")
            await runtime.digest()
            await story.settle()

            async with store.unit_of_work() as uow:
                final = await uow.escalations.get(esc.id)
                trail = await uow.audit.for_escalation(esc.id)
                counts = await uow.outbox.counts()
            assert final is not None
            story.say("What the audit trail recorded")
            for row in trail:
                out.write(f"  {row.at:%a %H:%M}  {row.action:<16} by {row.actor}\n")
            responder = final.first_responder.label() if final.first_responder else "-"
            out.write(
                f"\nStatus: {final.status.value}; first response by {responder}"
                f" ({'pull' if final.first_response_pull else 'push'}); messages delivered: {counts.get('sent', 0)}, "
                f"undelivered: {counts.get('pending', 0) + counts.get('failed', 0)}\n"
            )
            ok = final.status.value == "resolved" and not counts.get("pending")
            if console_port is None:
                out.write(NO_CONSOLE)
                return 0 if ok else 1
            if not await _serve_console(runtime, directory, esc.id, console_port, any_port, out):
                return 2
            return 0 if ok else 1
        finally:
            await runtime.stop()


async def _serve_console(
    runtime: Runtime, directory: Directory, escalation_id: str, port: int, any_port: bool, out: TextIO
) -> bool:
    """The web console over the demo's database, until interrupted, with a link that signs
    in as the local operator and opens the demo's escalation; False if it cannot listen."""
    from aiohttp import web

    from adapters.web import ConsoleConfig, WebConsole
    from storage.console import ConsoleStore

    from .app import build_app
    from .config_check import describe_policy

    queries = ConsoleStore(runtime.store)
    # Its address (the port) is known once it listens; the console reads its config at each request.
    config = ConsoleConfig(secret=secrets.token_bytes(32), public_url="http://127.0.0.1")
    # Sessions and the link run on the real clock; the story ran on a simulated one.
    console = WebConsole(config, runtime.service, directory, queries, queries, SystemClock(), describe_policy)
    app = build_app(runtime, mounts=[console.mount], start_jobs=False)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    for attempt in (port, 0) if any_port else (port,):
        site = web.TCPSite(runner, "127.0.0.1", attempt)
        try:
            await site.start()
            break
        except OSError as exc:
            reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            problem = f"port {port} is not free ({reason})"
    else:
        await runner.cleanup()
        sys.stderr.write(f"escalation-bot: demo: cannot serve the console: {problem}; try --console PORT\n")
        return False
    bound = runner.addresses[0][1]
    console.config = dataclasses.replace(config, public_url=f"http://127.0.0.1:{bound}")
    link = await console.new_link(OPERATOR, f"/console/escalations/{escalation_id}")
    out.write(f"\nThe web console shows this escalation (Ctrl-C to stop): {link}\n")
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return True
