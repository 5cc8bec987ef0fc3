"""The baselines: a bare slack-bolt ``AsyncApp`` and a bare botbuilder bot on aiohttp that only
acknowledge, and the durable floor: the bare Bolt app committing one row before its ack.

``python -m bench.bare slack|teams|slack-durable --api-url URL [--database-url URL]
[--event-loop auto|uvloop|asyncio]`` prints ``READY <port> <event loop>``. All are built the way
``serve`` builds its own (same Bolt options, same CloudAdapter, the same store, the same choice
of event loop), minus everything else. ``slack-durable`` records the request's event id in its
own database (``InboundRepository.record`` in one unit of work, as serve does for each
command) before it acknowledges: the least a bot that never acknowledges what it could lose
must do, so serve's throughput is set against it as well as against bare Bolt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.eventloop import CHOICES, loop_factory, loop_name
from storage import Store


def bolt_app(secret: str, api_url: str, store: Store | None = None) -> Any:
    """The bare Bolt app: our listeners' matchers, each only acknowledging; with a ``store``,
    each first commits the request's id as one row (the durable floor)."""
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
        signing_secret=secret,
        process_before_response=True,
        name="bare",
    )

    async def just_ack(ack: Any) -> None:
        await ack()

    async def commit_then_ack(ack: Any) -> None:
        assert store is not None
        async with store.unit_of_work() as uow:
            await uow.inbound.record("floor", uuid.uuid4().hex, datetime.now(UTC))
        await ack()

    listener = just_ack if store is None else commit_then_ack
    bolt.command("/escalate")(listener)
    bolt.action(re.compile(".*"))(listener)
    bolt.event("message")(listener)
    return bolt


def slack_app(secret: str, api_url: str, store: Store | None = None) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    bolt = bolt_app(secret, api_url, store)

    async def handle(request: web.Request) -> web.StreamResponse:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    app.router.add_get("/readyz", _ok)
    if store is not None:

        async def close_store(_: web.Application) -> None:
            await store.close()

        app.on_cleanup.append(close_store)
    return app


def teams_app() -> web.Application:
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
    from botbuilder.schema import Activity, InvokeResponse

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class Bare(ActivityHandler):
        async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
            return InvokeResponse(
                status=200,
                body={"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "ok"},
            )

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = Bare()

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        activity = Activity().deserialize(body)
        auth = await adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization")
        )
        response = await adapter.process_activity(auth, activity, bot.on_turn)
        if response is not None:
            return web.json_response(data=response.body, status=int(response.status))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/messages", handle)
    app.router.add_get("/readyz", _ok)
    return app


async def _ok(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _serve(build: Callable[[], web.Application], port: int) -> None:
    runner = web.AppRunner(build(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None
    port_ = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    print(f"READY {port_} {loop_name(asyncio.get_running_loop())}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["slack", "teams", "slack-durable"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--secret", default="")
    p.add_argument("--api-url", default="")
    p.add_argument("--event-loop", default="auto", choices=CHOICES, help="as serve's EVENT_LOOP")
    p.add_argument("--database-url", default="", help="slack-durable: a migrated database of its own")
    args = p.parse_args()
    if args.kind == "slack-durable" and not args.database_url:
        p.error("slack-durable needs --database-url")
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory(args.event_loop)) as runner:
        runner.run(_serve(lambda: _app(args), args.port))


def _app(args: argparse.Namespace) -> web.Application:
    if args.kind == "teams":
        return teams_app()
    # The store is built on the loop that serves: its engine's pool belongs to that loop.
    store = Store(args.database_url) if args.kind == "slack-durable" else None
    return slack_app(args.secret, args.api_url, store)


if __name__ == "__main__":
    main()
