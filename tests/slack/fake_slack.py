"""A fake Slack Web API on a random port: records every call, can answer 429.

It also keeps the messages it was sent (with their metadata) for ``conversations.history``
and ``conversations.replies``, and can inject faults at random (``chaos``) or slow down.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
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
    at: float = field(default_factory=time.monotonic)  # when the fake received it

    def dump(self) -> str:
        return json.dumps(self.args, ensure_ascii=False)


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    _limited: list[tuple[str | None, float]] = field(default_factory=list)
    _errors: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None
    # Messages as Slack would keep them, by channel (a DM under its "D" id).
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _chaos: dict[str, Any] | None = None
    _delay: float = 0.0
    # Per-channel limit on chat.postMessage, as Slack enforces it: (spacing, tolerance).
    _enforced: tuple[float, float] | None = None
    _last_post: dict[str, float] = field(default_factory=dict)
    # users.info answers: user id -> user object (anyone else: a person of TEAM named by id).
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # User groups by id, with their members (usergroups.users.list); any other id does not exist.
    user_groups: dict[str, list[str]] = field(default_factory=dict)

    # ------------------------------------------------------------ control

    def chaos(
        self,
        rate: float,
        *,
        seed: int = 0,
        faults: tuple[str, ...] = ("429", "500", "timeout", "reset"),
        retry_after: str = "1",
        hang: float = 3.0,
        methods: tuple[str, ...] | None = None,
        channels: str | None = None,
    ) -> None:
        """From now on a fraction ``rate`` of calls (of ``methods``, or all; to a channel
        starting with ``channels``, or any) fail, drawn with a seeded RNG. Only the calls
        chaos may hit draw from it, so with a filter which of them fail does not depend on
        how other calls interleave.

        ``429``: rate limited with ``Retry-After``; ``500``: internal error; ``reset``: the
        connection is dropped before the call is handled; ``drop``: the call IS handled (a
        message is posted) and then the connection is dropped, the answer lost; ``timeout``: the call IS handled
        (a message is posted) but the answer comes ``hang`` seconds late, after the client
        gave up: the "sent but not marked sent" case. ``rate=0`` turns chaos off.
        """
        self._chaos = (
            {
                "rate": rate,
                "rng": random.Random(seed),
                "faults": faults,
                "retry_after": retry_after,
                "hang": hang,
                "methods": methods,
                "channels": channels,
            }
            if rate > 0
            else None
        )

    def slow(self, seconds: float) -> None:
        """Every call is answered ``seconds`` late (after being handled): deliveries stay in flight."""
        self._delay = seconds

    def enforce_rate(self, spacing: float, tolerance: float = 0.85) -> None:
        """chat.postMessage to one channel closer than ``spacing`` seconds after the previous
        one (less a ``tolerance`` for network jitter) answers 429, as Slack's one-per-second does."""
        self._enforced = (spacing, tolerance)

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

    def posted(self) -> list[dict[str, Any]]:
        """Every message Slack now holds, in the order it was posted."""
        return sorted((m for ms in self.messages.values() for m in ms), key=lambda m: m["ts"])

    def posted_with_key(self, key: str) -> list[dict[str, Any]]:
        return [
            m for m in self.posted() if (m.get("metadata") or {}).get("event_payload", {}).get("idempotency_key") == key
        ]

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
        if self._chaos is not None:
            injected = await self._inject(method, args, request)
            if injected is not None:
                return injected
        for index, (only, retry_after) in enumerate(self._limited):
            if only is None or only == method:
                del self._limited[index]
                self.calls.append(Call(method, args, status=429))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(int(retry_after))}
                )
        if self._enforced is not None and method == "chat.postMessage":
            spacing, tolerance = self._enforced
            channel, now = str(args.get("channel")), time.monotonic()
            last = self._last_post.get(channel)
            if last is not None and now - last < spacing * tolerance:
                self.calls.append(Call(method, args, status=429))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(spacing)}
                )
            self._last_post[channel] = now
        if self._errors.get(method):
            error, status = self._errors[method].pop(0)
            self.calls.append(Call(method, args, status=status if status != 200 else 400))
            return web.json_response({"ok": False, "error": error}, status=status)
        self.calls.append(Call(method, args))
        answer = self._answer(method, args)
        if self._delay:
            await asyncio.sleep(self._delay)
        return web.json_response(answer)

    async def _inject(self, method: str, args: dict[str, Any], request: web.Request) -> web.Response | None:
        chaos = self._chaos
        assert chaos is not None
        if chaos["methods"] is not None and method not in chaos["methods"]:
            return None
        if chaos["channels"] is not None and not str(args.get("channel", "")).startswith(chaos["channels"]):
            return None
        rng: random.Random = chaos["rng"]
        if rng.random() >= chaos["rate"]:
            return None
        fault = rng.choice(chaos["faults"])
        if fault == "429":
            self.calls.append(Call(method, args, status=429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": chaos["retry_after"]}
            )
        if fault == "500":
            self.calls.append(Call(method, args, status=500))
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if fault == "reset":
            self.calls.append(Call(method, args, status=0))
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault == "drop":
            self.calls.append(Call(method, args, status=200))
            self._answer(method, args)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        # timeout: handled, but the client has given up by the time the answer comes.
        self.calls.append(Call(method, args, status=200))
        answer = self._answer(method, args)
        await asyncio.sleep(chaos["hang"])
        return web.json_response(answer)

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
            kept = {"ts": ts, "text": args.get("text"), "channel": channel}
            if args.get("thread_ts"):
                kept["thread_ts"] = str(args["thread_ts"])
            if args.get("metadata"):
                kept["metadata"] = args["metadata"]
            self.messages.setdefault(channel, []).append(kept)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": args.get("text")}}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "users.info":
            user = str(args.get("user"))
            found = self.users.get(user) or {"id": user, "team_id": TEAM, "name": user.lower(), "is_bot": False}
            return {"ok": True, "user": found}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "usergroups.users.list":
            members = self.user_groups.get(str(args.get("usergroup")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
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

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first (history) or parent then replies (replies), paged by an offset cursor."""
        channel = str(args.get("channel"))
        kept = self.messages.get(channel, [])
        if method == "conversations.history":
            found = [m for m in reversed(kept) if m.get("thread_ts") in (None, m["ts"])]
        else:
            parent = str(args.get("ts"))
            found = [m for m in kept if m["ts"] == parent or m.get("thread_ts") == parent]
        # ``oldest`` is not applied: the fake's ts values are not tied to any clock.
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = found[start : start + limit]
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = [{k: v for k, v in m.items() if k != "channel" and (with_metadata or k != "metadata")} for m in page]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


def _matches(args: dict[str, Any], where: dict[str, Any]) -> bool:
    return all(args.get(k) == v for k, v in where.items())
