"""A fake Slack Web API on a random port: records every call, can answer 429."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer

WORKSPACE_URL = "https://acme.slack.test/"
TEAM = "T0ACME"
BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int = 200

    def dump(self) -> str:
        return json.dumps(self.args, ensure_ascii=False)


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    _limited: list[tuple[str | None, float]] = field(default_factory=list)
    _errors: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None

    # ------------------------------------------------------------ control

    def rate_limit(self, count: int, retry_after: float, method: str | None = None) -> None:
        """The next ``count`` calls (of ``method``, or any) answer 429 ratelimited."""
        self._limited += [(method, retry_after)] * count

    def fail(self, method: str, error: str, status: int = 200) -> None:
        """The next call of ``method`` answers ``ok: false`` with ``error`` (and HTTP ``status``)."""
        self._errors.setdefault(method, []).append((error, status))

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def response_url(self, name: str = "r1") -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/response/{name}"))

    # ------------------------------------------------------------ queries

    def of(self, method: str, **where: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200 and _matches(c.args, where)]

    def posts(self, channel: str | None = None, *, thread: bool | None = None) -> list[Call]:
        out = []
        for call in self.of("chat.postMessage"):
            if channel is not None and call.args.get("channel") != channel:
                continue
            if thread is not None and bool(call.args.get("thread_ts")) != thread:
                continue
            out.append(call)
        return out

    def clear(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------ server

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        body = await request.text()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(dict(parse_qsl(body)))
        for key in ("blocks", "view", "metadata"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _response(self, request: web.Request) -> web.Response:
        self.calls.append(Call(f"response_url:{request.match_info['name']}", await self._args(request)))
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        for index, (only, retry_after) in enumerate(self._limited):
            if only is None or only == method:
                del self._limited[index]
                self.calls.append(Call(method, args, status=429))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(int(retry_after))}
                )
        if self._errors.get(method):
            error, status = self._errors[method].pop(0)
            self.calls.append(Call(method, args, status=status if status != 200 else 400))
            return web.json_response({"ok": False, "error": error}, status=status)
        self.calls.append(Call(method, args))
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": WORKSPACE_URL,
                "team": "Acme",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "B0BOT",
                "user": "escalation-bot",
            }
        if method == "chat.postMessage":
            channel = str(args.get("channel"))
            if channel.startswith("U"):
                channel = "D" + channel[1:]
            ts = f"1772442000.{next(self._ts):06d}"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": args.get("text")}}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": args.get("channel"),
                "permalink": f"{WORKSPACE_URL}archives/{args.get('channel')}/p{ts}",
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1772442999.{next(self._ts):06d}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))[1:]}}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(self._ts):06d}", **(args.get("view") or {})}}
        return {"ok": True}


def _matches(args: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(args.get(k) == v for k, v in where.items())
