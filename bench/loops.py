"""uvloop against asyncio's own event loop, in one process: the same work on each, in turn.

    python -m bench.loops [--quick] [--db sqlite|postgres] [--rounds N] [--count N]

``serve`` runs on uvloop where it is installed (``EVENT_LOOP``, ``bot/eventloop.py``). This
measures what that buys, on the CPU clock, with the two loops interleaved in one process so
that a change in the machine's speed during the run touches both alike: each round makes a
fresh loop of each kind (the order alternating, A B then B A), and on it a fresh database,
then measures the CPU milliseconds per call of:

- ``bolt_http``: a signed thread-reply event POSTed over loopback to the bare Bolt app on
  aiohttp (``bench.bare``), the client in this process too: sockets, HTTP on both ends, Bolt;
- the operations of ``bench.floor``: ``bolt_ack`` (Bolt without HTTP), ``empty_unit_of_work``,
  ``one_insert``, ``open_command`` and ``reply_on_card`` (the database driver's sockets).

Each figure is the median over the rounds; the ratio is the median of each round's
uvloop / asyncio (below 1: uvloop spends less).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import aiohttp
from aiohttp import web

from bot.eventloop import LoopUnavailable, loop_factory, loop_name

from .bare import slack_app
from .common import database, emit, parser, table
from .fakes import fake_process
from .floor import SECRET, bolt_app, measure, reply_event

LOOPS = ("asyncio", "uvloop")


async def one_round(db: str, slack_api: str, count: int) -> dict[str, float]:
    """Every operation's CPU ms per call, on the running loop."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    app = bolt_app(SECRET, f"{slack_api}/api/")

    async def bolt_ack(n: int) -> None:
        body, headers = reply_event(n)
        response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        assert response.status == 200, response.body

    runner = web.AppRunner(slack_app(SECRET, f"{slack_api}/api/"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        async with aiohttp.ClientSession() as http, database(db) as url:

            async def bolt_http(n: int) -> None:
                body, headers = reply_event(n)
                sent = {k: v if isinstance(v, str) else ",".join(v) for k, v in headers.items()}
                async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=sent) as response:
                    assert response.status == 200, await response.text()

            figures = await measure(url, count, bolt_ack, extra=[("bolt_http", bolt_http)])
    finally:
        await runner.cleanup()
    return figures


def run_on(kind: str, db: str, slack_api: str, count: int) -> dict[str, float]:
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        assert loop_name(runner.get_loop()) == kind
        return runner.run(one_round(db, slack_api, count))


def run(args: Any) -> dict[str, Any]:
    rounds = args.rounds or (2 if args.quick else 6)
    count = args.count or (40 if args.quick else 1200)
    per_loop: dict[str, list[dict[str, float]]] = {kind: [] for kind in LOOPS}
    with fake_process("slack") as slack_api:
        for n in range(rounds):
            for kind in LOOPS if n % 2 == 0 else LOOPS[::-1]:
                per_loop[kind].append(run_on(kind, args.db, slack_api, count))
    operations = list(per_loop["asyncio"][0])
    medians = {
        kind: {op: round(statistics.median(r[op] for r in per_loop[kind]), 4) for op in operations} for kind in LOOPS
    }
    ratios = {
        op: round(
            statistics.median(u[op] / a[op] for a, u in zip(per_loop["asyncio"], per_loop["uvloop"], strict=True)), 3
        )
        for op in operations
    }
    spread = {
        op: [
            round(min(u[op] / a[op] for a, u in zip(per_loop["asyncio"], per_loop["uvloop"], strict=True)), 3),
            round(max(u[op] / a[op] for a, u in zip(per_loop["asyncio"], per_loop["uvloop"], strict=True)), 3),
        ]
        for op in operations
    }
    table(
        f"CPU ms per call on each event loop, in one process, db={args.db}, {rounds} interleaved rounds",
        ["operation", "asyncio", "uvloop", "uvloop / asyncio", "round min", "round max"],
        [[op, medians["asyncio"][op], medians["uvloop"][op], ratios[op], *spread[op]] for op in operations],
    )
    return {
        "rounds": rounds,
        "calls_each": count,
        "cpu_ms": medians,
        "uvloop_over_asyncio": ratios,
        "ratio_range": spread,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--rounds", type=int, default=0, help="rounds, each on both loops (default 6; --quick 2)")
    p.add_argument("--count", type=int, default=0, help="calls of each operation per round (default 1200; --quick 40)")
    args = p.parse_args(argv)
    if args.rounds < 0 or args.count < 0:
        p.error("--rounds and --count must not be negative")
    try:
        loop_factory("uvloop")
    except LoopUnavailable as exc:
        p.error(str(exc))
    return emit("loops", args, run(args))


if __name__ == "__main__":
    main()
