"""Growth: the cost of a sweep, of opening an escalation, of knowledge search and of the daily
digest as the history grows, with the smallest size as the baseline (ratios largest/smallest).

    python -m bench.growth [--quick] [--db sqlite|postgres] [--sizes 10000,100000,1000000]

History is seeded by bulk inserts (resolved escalations with realistic text, their knowledge rows
and card refs), ``seed.PER_DAY`` a day back from now: a bigger database is a longer history at the
same daily traffic, so the live work (open escalations, due timers, this week's figures) is the
same at every size and only the history grows. EXPLAIN of the statements actually executed by a
sweep, an open and a search is printed (and written next to the README with --explain-out).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, text

from bot.runtime import Runtime
from storage import Store
from storage.tables import DigestRow, OutboxRow
from workflows.clock import FakeClock
from workflows.model import Platform
from workflows.ports import Scope

from .common import database, emit, parser, ratio, summary, table
from .seed import SAM, directory, seed_history, seed_live
from .sinks import NullSender
from .text import question

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday, after the 09:00 digest time
SWEEP_ROUNDS = 5
SWEEP_ROUNDS_QUICK = 2
QUERIES = [
    "token refresh crash",
    "webhook retries timeout",
    "invoice PDF wrong currency",
    "proxy certificate error android",
    "offline cache memory leak",
    "csv import duplicates records",
    "single sign-on logs users out",
    "react native bridge hangs",
]


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int, budget_s: float = 30.0) -> list[float]:
    """Up to ``repeat`` timings, fewer (at least 3) when they would take longer than ``budget_s``."""
    out: list[float] = []
    started = time.perf_counter()
    for n in range(repeat):
        if n >= 3 and time.perf_counter() - started > budget_s:
            break
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


class Capture:
    """The SELECT statements an operation really runs, for EXPLAIN."""

    def __init__(self, store: Store) -> None:
        self.statements: dict[str, Any] = {}
        self.on = False

        @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
        def _capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            if self.on and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                self.statements.setdefault(statement, parameters)


async def explain(store: Store, statements: dict[str, Any]) -> list[tuple[str, str]]:
    postgres = store.engine.dialect.name == "postgresql"
    out = []
    async with store.engine.connect() as conn:
        for statement, parameters in statements.items():
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            result = await conn.exec_driver_sql(prefix + statement, parameters)
            rows = result.fetchall()
            plan = "\n".join(str(r[0]) if postgres else str(r[-1]) for r in rows)
            out.append((" ".join(statement.split()), plan))
    return out


def scans_history(plan: str) -> bool:
    """A full scan of a table that grows with history (escalations, knowledge, scopes, refs),
    or of a whole index of one (SQLite's ``SCAN t USING INDEX``)."""
    for line in plan.lower().splitlines():
        words = line.replace("->", " ").split()
        # "k" and "s": the aliases of knowledge and escalation_scopes in the search statement.
        for table_name in ("escalations", "knowledge", "escalation_scopes", "message_refs", "k", "s"):
            if f"seq scan on {table_name}" in line or words[:2] == ["scan", table_name]:
                return True
    return False


async def forget_live(store: Store) -> None:
    """Remove what measuring added (live escalations, their outbox, audit and refs), so the
    live work is the same at every size and only the history grows."""
    live = "id NOT LIKE 'hist-%'"
    async with store.engine.begin() as conn:
        for statement in (
            "DELETE FROM outbox",
            "DELETE FROM audit",
            "DELETE FROM digests",
            f"DELETE FROM knowledge WHERE escalation_{live}",
            f"DELETE FROM message_refs WHERE escalation_{live}",
            f"DELETE FROM escalation_scopes WHERE escalation_{live}",
            f"DELETE FROM escalations WHERE {live}",
        ):
            await conn.exec_driver_sql(statement)


async def measure(url: str, size: int, quick: bool, explain_ops: bool) -> dict[str, Any]:
    d = directory()
    clock = FakeClock(NOW)
    store = Store(url)
    runtime = Runtime(store, d, {Platform.slack: NullSender()}, clock=clock, holder=f"growth-{size}")
    due_count = 50 if quick else 200
    opens = 30 if quick else 100
    figures: dict[str, Any] = {}
    capture = Capture(store)
    plans: dict[str, list[tuple[str, str]]] = {}
    try:
        # Sweep: due_count timers due now among the whole history, several rounds (the median
        # per executed step is reported); and an idle sweep (nothing due).
        per_step: list[float] = []
        for round_ in range(SWEEP_ROUNDS_QUICK if quick else SWEEP_ROUNDS):
            opens_due = [("sdk", NOW - timedelta(minutes=31))] * due_count
            await seed_live(url, d, opens_due, prefix=f"due{size}r{round_}")
            capture.on = explain_ops and round_ == 0
            t0 = time.perf_counter()
            executed = await runtime.sweep()
            per_step.append((time.perf_counter() - t0) * 1000 / due_count)
            capture.on = False
            assert executed == due_count, (executed, due_count)
        if explain_ops:
            plans["sweep"] = await explain(store, capture.statements)
            capture.statements = {}
        idle = await timed(runtime.sweep, 20)
        figures["sweep_per_step_ms"] = summary(per_step)["p50"]
        figures["sweep_per_step_rounds_ms"] = [round(x, 3) for x in per_step]
        figures["sweep_idle_ms"] = summary(idle)["p50"]

        rng = random.Random(size)

        async def open_one() -> None:
            await runtime.service.open(requester=SAM, community_key="sdk", question=question(rng))

        capture.on = explain_ops
        await open_one()
        capture.on = False
        if explain_ops:
            plans["open"] = await explain(store, capture.statements)
            capture.statements = {}
        figures["open_ms"] = summary(await timed(open_one, opens))

        async def open_plain() -> None:
            await runtime.service.open(requester=SAM, community_key="nodeflect", question=question(rng))

        figures["open_no_deflection_ms"] = summary(await timed(open_plain, opens))

        scope = Scope("slack", "T0ACME")
        queries = iter(QUERIES * 100)

        async def search_one() -> None:
            await runtime.service.search(next(queries), scope)

        capture.on = explain_ops
        await search_one()
        capture.on = False
        if explain_ops:
            plans["search"] = await explain(store, capture.statements)
            capture.statements = {}
        figures["search_ms"] = summary(await timed(search_one, 24 if quick else 80))

        async def digest_one() -> None:
            async with store.unit_of_work() as uow:
                await uow.session.execute(delete(DigestRow))
                await uow.session.execute(delete(OutboxRow).where(OutboxRow.kind == "post_digest"))
            queued = await runtime.digest()
            assert queued == len(d.all()), queued

        figures["digest_ms"] = summary(await timed(digest_one, 3 if quick else 5))
        async with store.engine.connect() as conn:
            figures["escalations_in_db"] = (await conn.execute(text("SELECT count(*) FROM escalations"))).scalar_one()
        await forget_live(store)
    finally:
        await store.close()
    figures["plans"] = plans
    return figures


async def run(args: Any) -> dict[str, Any]:
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([1000, 10000, 20000] if args.quick else [10000, 100000, 1000000])
    )
    results: dict[str, Any] = {"sizes": sizes, "per_day": 300, "sizes_measured": {}}
    rows = []
    seeded = 0
    t_start = time.perf_counter()
    async with database(args.db) as url:
        for n, size in enumerate(sizes):
            seed_s = await seed_history(url, size - seeded, NOW, offset=seeded)
            seeded = size
            if args.db == "postgres":
                async with Store(url).engine.connect() as conn:
                    await conn.execute(text("COMMIT"))
                    await conn.exec_driver_sql("ANALYZE")
            else:
                store = Store(url)
                async with store.engine.connect() as conn:
                    await conn.exec_driver_sql("ANALYZE")
                await store.close()
            figures = await measure(url, size, args.quick, explain_ops=(n == len(sizes) - 1))
            figures["seed_s"] = round(seed_s, 1)
            results["sizes_measured"][str(size)] = figures
            print(
                f"{size} escalations: seeded in {seed_s:.1f} s; sweep/step {figures['sweep_per_step_ms']} ms, "
                f"open p50 {figures['open_ms']['p50']} ms (no deflection {figures['open_no_deflection_ms']['p50']}), "
                f"search p50 {figures['search_ms']['p50']} ms, digest p50 {figures['digest_ms']['p50']} ms",
                flush=True,
            )
            rows.append(
                [
                    size,
                    figures["seed_s"],
                    figures["sweep_per_step_ms"],
                    figures["sweep_idle_ms"],
                    figures["open_ms"]["p50"],
                    figures["open_no_deflection_ms"]["p50"],
                    figures["search_ms"]["p50"],
                    figures["digest_ms"]["p50"],
                ]
            )
    first, last = results["sizes_measured"][str(sizes[0])], results["sizes_measured"][str(sizes[-1])]
    results["ratios_largest_vs_smallest"] = {
        "sweep_per_step": ratio(last["sweep_per_step_ms"], first["sweep_per_step_ms"]),
        "sweep_idle": ratio(last["sweep_idle_ms"], first["sweep_idle_ms"]),
        "open_p50": ratio(last["open_ms"]["p50"], first["open_ms"]["p50"]),
        "open_no_deflection_p50": ratio(last["open_no_deflection_ms"]["p50"], first["open_no_deflection_ms"]["p50"]),
        "search_p50": ratio(last["search_ms"]["p50"], first["search_ms"]["p50"]),
        "digest_p50": ratio(last["digest_ms"]["p50"], first["digest_ms"]["p50"]),
    }
    results["total_s"] = round(time.perf_counter() - t_start, 1)
    table(
        f"Growth, db={args.db} (ms; sweep per executed step, the rest p50 per operation)",
        ["escalations", "seed s", "sweep/step", "idle sweep", "open", "open (no deflection)", "search", "digest"],
        rows,
    )
    table(
        f"Ratios {sizes[-1]} / {sizes[0]} (targets: sweep and open <= 2, search <= 5)",
        ["operation", "ratio"],
        list(results["ratios_largest_vs_smallest"].items()),
    )
    plans = last.pop("plans")
    lines = []
    for op, explained in plans.items():
        for statement, plan in explained:
            flag = "FULL SCAN OF HISTORY" if scans_history(plan) else "index"
            lines.append(f"-- {op} [{flag}]\n{statement[:400]}\n{plan}\n")
    results["history_scans"] = sum(1 for ex in plans.values() for _, p in ex if scans_history(p))
    print(f"\nEXPLAIN at {sizes[-1]} escalations ({args.db}):\n")
    print("\n".join(lines))
    if args.explain_out:
        Path(args.explain_out).write_text("\n".join(lines))  # noqa: ASYNC240 - after measuring
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--sizes", help="comma-separated history sizes (default 10k,100k,1M; --quick 1k,10k,20k)")
    p.add_argument("--explain-out", help="write the EXPLAIN output to this file")
    args = p.parse_args(argv)
    return emit("growth", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
