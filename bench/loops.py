"""uvloop against asyncio's own event loop, in one process: the same work on each, in turn.

    python -m bench.loops [--quick] [--db sqlite|postgres] [--blocks N] [--calls N]

``serve`` runs on uvloop where it is installed (``EVENT_LOOP``, ``bot/eventloop.py``). This
measures what that buys, on the CPU clock. Both loops live in this one process, each with a
database of its own and the same operations set up on it; the work then goes back and forth
between them in short blocks (``--calls`` calls of one operation on one loop, then on the
other, the order alternating), so that the machine's changes of speed, which here reach
1.8x within minutes, touch both alike. The operations:

- ``bolt_http``: a signed thread-reply event POSTed over loopback to the bare Bolt app on
  aiohttp (``bench.bare``), the client in this process too: sockets, HTTP on both ends, Bolt;
- those of ``bench.floor``: ``bolt_ack`` (Bolt without HTTP), ``empty_unit_of_work``,
  ``one_insert``, ``open_command`` and ``reply_on_card`` (the database driver's sockets).

For each it reports the CPU ms per call on each loop (the median of the blocks), and the
ratio uvloop / asyncio: the median of the blocks' ratios with their quartiles (below 1:
uvloop spends less).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from typing import Any

import aiohttp
from aiohttp import web

from bot.eventloop import LoopUnavailable, loop_factory, loop_name

from .bare import slack_app
from .common import database, emit, parser, table
from .fakes import fake_process
from .floor import SECRET, Operation, bolt_app, cpu_ms_per_op, operations, reply_event

LOOPS = ("asyncio", "uvloop")
WARM_UP = 20


class Side:
    """One event loop, with the operations set up on it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.runner = asyncio.Runner(loop_factory=loop_factory(kind))
        self.stack = contextlib.AsyncExitStack()
        self.ops: dict[str, Operation] = {}

    def open(self, db: str, slack_api: str) -> None:
        assert loop_name(self.runner.get_loop()) == self.kind
        self.ops = self.runner.run(self._open(db, slack_api))

    async def _open(self, db: str, slack_api: str) -> dict[str, Operation]:
        from slack_bolt.request.async_request import AsyncBoltRequest

        app = bolt_app(SECRET, f"{slack_api}/api/")

        async def bolt_ack(n: int) -> None:
            body, headers = reply_event(n)
            response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
            assert response.status == 200, response.body

        runner = web.AppRunner(slack_app(SECRET, f"{slack_api}/api/"), access_log=None)
        await runner.setup()
        self.stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        http = await self.stack.enter_async_context(aiohttp.ClientSession())
        url = await self.stack.enter_async_context(database(db))

        async def bolt_http(n: int) -> None:
            body, headers = reply_event(n)
            sent = {k: v if isinstance(v, str) else ",".join(v) for k, v in headers.items()}
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=sent) as response:
                assert response.status == 200, await response.text()

        store, ops = await operations(url, bolt_ack)
        self.stack.push_async_callback(store.close)
        everything = dict([*ops, ("bolt_http", bolt_http)])
        for op in everything.values():  # warm-up: first connections, caches, Bolt's auth.test
            for n in range(WARM_UP):
                await op(-n - 1)
        return everything

    def cpu_ms(self, name: str, calls: int) -> float:
        """CPU ms per call of ``calls`` calls (warmed up already, in ``open``)."""
        return self.runner.run(cpu_ms_per_op(self.ops[name], calls, warm_up=0))

    def close(self) -> None:
        try:
            self.runner.run(self.stack.aclose())
        finally:
            self.runner.close()


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def run(args: Any) -> dict[str, Any]:
    blocks = args.blocks or (2 if args.quick else 20)
    calls = args.calls or (8 if args.quick else 60)
    cpu: dict[str, dict[str, list[float]]] = {kind: {} for kind in LOOPS}
    with fake_process("slack") as slack_api:
        sides = [Side(kind) for kind in LOOPS]
        try:
            for side in sides:
                side.open(args.db, slack_api)
            names = list(sides[0].ops)
            for block in range(blocks):
                for i, name in enumerate(names):
                    for side in sides if (block + i) % 2 == 0 else sides[::-1]:
                        cpu[side.kind].setdefault(name, []).append(side.cpu_ms(name, calls))
        finally:
            for side in sides:
                side.close()
    medians = {kind: {op: round(statistics.median(v), 4) for op, v in cpu[kind].items()} for kind in LOOPS}
    ratios: dict[str, dict[str, float]] = {}
    for op in names:
        q1, q2, q3 = quartiles([u / a for a, u in zip(cpu["asyncio"][op], cpu["uvloop"][op], strict=True)])
        ratios[op] = {"median": round(q2, 3), "q1": round(q1, 3), "q3": round(q3, 3)}
    table(
        f"CPU ms per call on each event loop, in one process, db={args.db}, {blocks} blocks of {calls} calls, "
        "the loops taking turns",
        ["operation", "asyncio", "uvloop", "uvloop / asyncio", "quartile 1", "quartile 3"],
        [
            [op, medians["asyncio"][op], medians["uvloop"][op], r["median"], r["q1"], r["q3"]]
            for op, r in ratios.items()
        ],
    )
    return {"blocks": blocks, "calls_per_block": calls, "cpu_ms": medians, "uvloop_over_asyncio": ratios}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--blocks", type=int, default=0, help="turns of each loop at each operation (default 20; --quick 2)")
    p.add_argument("--calls", type=int, default=0, help="calls of an operation in one turn (default 60; --quick 8)")
    args = p.parse_args(argv)
    if args.blocks < 0 or args.calls < 0:
        p.error("--blocks and --calls must not be negative")
    try:
        loop_factory("uvloop")
    except LoopUnavailable as exc:
        p.error(str(exc))
    return emit("loops", args, run(args))


if __name__ == "__main__":
    main()
