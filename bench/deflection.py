"""The deflection search's added latency on the open path (issue 6).

    python -m bench.deflection [--quick] [--db sqlite|postgres]

A knowledge base of 1k and 10k resolved answers (bulk-seeded, realistic text). Opens through
the real ``EscalationService`` alternate between a community with deflection on (the default:
similar resolved questions are searched inside the open transaction) and one with it off
(``deflection_wait: off``), with questions drawn from the same vocabulary, so most find
suggestions. Reported: p50/p99 of each and the ratios (on / off), and how many opens were held
with suggestions.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from typing import Any

from bot.runtime import Runtime
from storage import Store
from workflows.clock import FakeClock
from workflows.model import Platform

from .common import database, emit, parser, ratio, summary, table
from .seed import SAM, directory, seed_history
from .sinks import NullSender
from .text import question

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def measure(url: str, opens: int) -> dict[str, Any]:
    store = Store(url)
    runtime = Runtime(store, directory(), {Platform.slack: NullSender()}, clock=FakeClock(NOW), holder="deflection")
    rng = random.Random(5)
    on: list[float] = []
    off: list[float] = []
    held = 0
    try:
        for _ in range(opens):
            for community, out in (("sdk", on), ("nodeflect", off)):
                text = question(rng)
                t0 = time.perf_counter()
                outcome = await runtime.service.open(requester=SAM, community_key=community, question=text)
                out.append((time.perf_counter() - t0) * 1000)
                if community == "sdk" and outcome.escalation is not None and outcome.escalation.held:
                    held += 1
    finally:
        await store.close()
    s_on, s_off = summary(on), summary(off)
    return {
        "deflection_on_ms": s_on,
        "deflection_off_ms": s_off,
        "added_p50_ms": round(s_on["p50"] - s_off["p50"], 3),
        "ratio_p50": ratio(s_on["p50"], s_off["p50"]),
        "ratio_p99": ratio(s_on["p99"], s_off["p99"]),
        "held_with_suggestions": held,
    }


async def run(args: Any) -> dict[str, Any]:
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else ([200, 1000] if args.quick else [1000, 10000])
    opens = args.opens or (20 if args.quick else 100)
    results: dict[str, Any] = {"knowledge_sizes": sizes, "opens_each": opens, "sizes": {}}
    seeded = 0
    async with database(args.db) as url:
        for size in sizes:
            await seed_history(url, size - seeded, NOW, offset=seeded)
            seeded = size
            results["sizes"][str(size)] = await measure(url, opens)
    table(
        f"Open with deflection search vs without (ms), db={args.db}",
        ["answers", "on p50", "on p99", "off p50", "off p99", "added p50", "x p50", "x p99", "held"],
        [
            [
                size,
                r["deflection_on_ms"]["p50"],
                r["deflection_on_ms"]["p99"],
                r["deflection_off_ms"]["p50"],
                r["deflection_off_ms"]["p99"],
                r["added_p50_ms"],
                r["ratio_p50"],
                r["ratio_p99"],
                r["held_with_suggestions"],
            ]
            for size, r in results["sizes"].items()
        ],
    )
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--sizes", help="comma-separated knowledge base sizes (default 1000,10000)")
    p.add_argument("--opens", type=int, default=0, help="opens of each kind per size (default 100)")
    args = p.parse_args(argv)
    return emit("deflection", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
