"""The platforms, faked at the HTTP boundary, each runnable in a process of its own.

``python -m bench.fakes slack|slack-limited|teams [--port 0]`` prints ``READY <port>`` and
serves until killed. ``GET /stats`` returns what it saw (calls per method, 429s answered,
messages accepted per channel).

- ``slack``: a Slack Web API that answers every call at once.
- ``slack-limited``: the same, but a channel accepts at most one message (``chat.postMessage``
  or ``chat.update``) per second; beyond that it answers HTTP 429 with ``Retry-After: 1``.
- ``teams``: a Bot Connector (``/v3/conversations/...``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

WORKSPACE_URL = "https://acme.slack.test/"


class FakeSlack:
    def __init__(self, *, limited: bool = False, interval: float = 1.0) -> None:
        self.limited = limited
        self.interval = interval
        self.calls: Counter[str] = Counter()
        self.rejected = 0
        self.accepted: dict[str, list[float]] = defaultdict(list)
        self.violations = 0
        self._ts = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/stats", self._stats)
        return app

    async def _stats(self, _: web.Request) -> web.Response:
        first = min((t[0] for t in self.accepted.values() if t), default=None)
        last = max((t[-1] for t in self.accepted.values() if t), default=None)
        return web.json_response(
            {
                "calls": dict(self.calls),
                "rejected_429": self.rejected,
                "accepted": sum(len(t) for t in self.accepted.values()),
                "channels": len(self.accepted),
                "first_accepted": first,
                "last_accepted": last,
                "violations": self.violations,
                "accepted_per_channel": {c: len(t) for c, t in self.accepted.items()},
                # The closest two messages one channel accepted (a DM is a channel too).
                "min_gap_s": min(
                    (b - a for t in self.accepted.values() for a, b in itertools.pairwise(t)), default=None
                ),
            }
        )

    async def _response(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls["response_url"] += 1
        return web.Response(text="ok")

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        body = await request.text()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(dict(parse_qsl(body)))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        if self.limited and method in ("chat.postMessage", "chat.update"):
            channel = str(args.get("channel"))
            now = time.monotonic()
            sent = self.accepted[channel]
            if sent and now - sent[-1] < self.interval:
                self.rejected += 1
                self.calls[f"{method}:429"] += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
            sent.append(now)
        elif method in ("chat.postMessage", "chat.update"):
            self.accepted[str(args.get("channel"))].append(time.monotonic())
        self.calls[method] += 1
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": WORKSPACE_URL,
                "team": "Acme",
                "team_id": "T0ACME",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "user": "escalation-bot",
            }
        if method == "chat.postMessage":
            channel = str(args.get("channel"))
            if channel.startswith("U"):
                channel = "D" + channel[1:]
            ts = f"1772442000.{next(self._ts):06d}"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {"ok": True, "channel": args.get("channel"), "permalink": f"{WORKSPACE_URL}archives/x/p{ts}"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1772442999.{next(self._ts):06d}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))[1:]}}
        if method.startswith("views."):
            return {"ok": True, "view": {"id": f"V{next(self._ts):06d}"}}
        return {"ok": True}


class FakeConnector:
    """The Bot Framework connector: creates conversations, takes sends, replies and updates."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1001)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/stats", self._stats)
        return app

    async def _stats(self, _: web.Request) -> web.Response:
        return web.json_response({"calls": dict(self.calls)})

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls["create"] += 1
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if channel:
            root = str(next(self._ids))
            conversation = f"{channel};messageid={root}"
            return web.json_response({"id": conversation, "activityId": root}, status=201)
        member = (body.get("members") or [{}])[0].get("id", "")
        return web.json_response({"id": f"a:dm-{member}"}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls["send"] += 1
        return web.json_response({"id": str(next(self._ids))}, status=201)

    async def _reply(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls["reply"] += 1
        return web.json_response({"id": str(next(self._ids))}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls["update"] += 1
        return web.json_response({"id": unquote(request.match_info["activity"])}, status=200)


def build(kind: str) -> web.Application:
    if kind == "slack":
        return FakeSlack().app()
    if kind == "slack-limited":
        return FakeSlack(limited=True).app()
    if kind == "teams":
        return FakeConnector().app()
    raise ValueError(kind)


async def _serve(kind: str, port: int) -> None:
    runner = web.AppRunner(build(kind), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    print(f"READY {bound}", flush=True)
    await asyncio.Event().wait()


@contextmanager
def fake_process(kind: str) -> Iterator[str]:
    """Start a fake in a process of its own; yields its base URL (``http://127.0.0.1:<port>``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fakes", kind],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"fake {kind} did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["slack", "slack-limited", "teams"])
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.kind, args.port))


if __name__ == "__main__":
    main()
