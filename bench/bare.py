"""The baselines: a bare slack-bolt ``AsyncApp`` and a bare botbuilder bot on aiohttp that only acknowledge.

``python -m bench.bare slack|teams --api-url URL [--event-loop auto|uvloop|asyncio]`` prints
``READY <port> <event loop>``. Both are built the way ``serve`` builds its own (same Bolt
options, same CloudAdapter, the same choice of event loop), minus everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
from typing import Any

from aiohttp import web

from bot.eventloop import CHOICES, loop_factory, loop_name


def bolt_app(secret: str, api_url: str) -> Any:
    """The bare Bolt app: our listeners' matchers, each only acknowledging."""
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

    bolt.command("/escalate")(just_ack)
    bolt.action(re.compile(".*"))(just_ack)
    bolt.event("message")(just_ack)
    return bolt


def slack_app(secret: str, api_url: str) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    bolt = bolt_app(secret, api_url)

    async def handle(request: web.Request) -> web.StreamResponse:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    app.router.add_get("/readyz", _ok)
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


async def _serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
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
    p.add_argument("kind", choices=["slack", "teams"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--secret", default="")
    p.add_argument("--api-url", default="")
    p.add_argument("--event-loop", default="auto", choices=CHOICES, help="as serve's EVENT_LOOP")
    args = p.parse_args()
    app = slack_app(args.secret, args.api_url) if args.kind == "slack" else teams_app()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory(args.event_loop)) as runner:
        runner.run(_serve(app, args.port))


if __name__ == "__main__":
    main()
