"""Timer precision at scale: N escalations whose nudges fall due within the same minute.

    python -m bench.timers [--quick] [--db sqlite|postgres]

The escalations are opened through decide() and the repositories (no service, no outbox) so
that their first timer (the nudge, 30 minutes after opening) falls due spread over one minute,
starting shortly after the workers start. Each worker is a separate process running a real
``Runtime`` (APScheduler sweeper and dispatcher, system clock, sweep interval stated) with a
platform that takes every message at once. Lateness of each step = the audit row's time minus
the step's due time (from the Tick's id). One process, and two processes on PostgreSQL (SQLite
is single-process by design: ``serve`` refuses a second process on the same file). Every step
must run exactly once: asserted from the audit rows.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from storage import Store
from storage.tables import AuditRow
from workflows.model import Platform

from .common import ROOT, database, emit, parser, summary, table
from .seed import directory, seed_live
from .sinks import NullSender

SWEEP_INTERVAL = 5.0


async def nudged(store: Store) -> int:
    async with store.unit_of_work() as uow:
        return await uow.audit.count(action="nudged")


async def worker(url: str, holder: str, expected: int, limit_s: float) -> None:
    # A sweep that outlasts the next trigger is reported by APScheduler as "skipped": expected here.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    store = Store(url)
    runtime = Runtime(store, directory(), {Platform.slack: NullSender()}, holder=holder, sweep_interval=SWEEP_INTERVAL)
    runtime.start()
    deadline = time.monotonic() + limit_s
    try:
        # Polling the database, the only state the workers share.
        while time.monotonic() < deadline and await nudged(store) < expected:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    finally:
        await runtime.stop()  # lets the runs in flight finish before closing the database


async def lateness(url: str) -> tuple[list[float], Counter[str], Counter[str]]:
    store = Store(url)
    try:
        async with store.unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    select(AuditRow.escalation_id, AuditRow.command_id, AuditRow.at).where(AuditRow.action == "nudged")
                )
            ).all()
    finally:
        await store.close()
    late: list[float] = []
    per_escalation: Counter[str] = Counter()
    per_step: Counter[str] = Counter()
    for escalation_id, command_id, at in rows:
        due = datetime.fromisoformat(command_id.split(":", 2)[2])
        late.append((at - due).total_seconds())
        per_escalation[escalation_id] += 1
        per_step[command_id + escalation_id] += 1
    return late, per_escalation, per_step


async def one_run(db: str, count: int, window: float, processes: int, lead: float) -> dict[str, Any]:
    async with database(db) as url:
        lead = lead or 15.0 + count * 0.003
        base = datetime.now(UTC) + timedelta(seconds=lead)
        opens = [("sdk", base - timedelta(minutes=30) + timedelta(seconds=i * window / count)) for i in range(count)]
        t0 = time.perf_counter()
        ids = await seed_live(url, directory(), opens, prefix="timer")
        seed_s = time.perf_counter() - t0
        margin = (base - datetime.now(UTC)).total_seconds()
        timeout = lead + window + 240
        procs = [
            subprocess.Popen(  # noqa: ASYNC220 - workers start before their timers fall due
                [sys.executable, "-m", "bench.timers", "--worker", url, f"worker-{n}", str(count), str(timeout)],
                cwd=ROOT,
            )
            for n in range(processes)
        ]
        for proc in procs:
            await asyncio.to_thread(proc.wait)
        late, per_escalation, _ = await lateness(url)
        missed = len(set(ids) - set(per_escalation))
        doubled = sum(1 for n in per_escalation.values() if n > 1)
        assert missed == 0, f"{missed} steps missed"
        assert doubled == 0, f"{doubled} steps ran twice"
        s = summary(late)
        return {
            "processes": processes,
            "steps": len(late),
            "missed": missed,
            "doubled": doubled,
            "lateness_s": s,
            "p99_beyond_sweep_interval_s": round(s["p99"] - SWEEP_INTERVAL, 3),
            "seed_s": round(seed_s, 1),
            "start_margin_s": round(margin, 1),
        }


async def run(args: Any) -> dict[str, Any]:
    count = args.count or (300 if args.quick else 10_000)
    window = args.window or (10.0 if args.quick else 60.0)
    plans = [1, 2] if args.db == "postgres" else [1]
    runs = [await one_run(args.db, count, window, p, args.lead) for p in plans]
    table(
        f"Timer lateness (s), {count} nudges due within {window:g} s, "
        f"sweep interval {SWEEP_INTERVAL:g} s, db={args.db}",
        ["processes", "steps", "missed", "doubled", "p50", "p99", "max", "p99 - interval", "start margin s"],
        [
            [
                r["processes"],
                r["steps"],
                r["missed"],
                r["doubled"],
                r["lateness_s"]["p50"],
                r["lateness_s"]["p99"],
                r["lateness_s"]["max"],
                r["p99_beyond_sweep_interval_s"],
                r["start_margin_s"],
            ]
            for r in runs
        ],
    )
    return {"count": count, "window_s": window, "sweep_interval_s": SWEEP_INTERVAL, "runs": runs}


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        url, holder, expected, timeout = argv[1], argv[2], int(argv[3]), float(argv[4])
        asyncio.run(worker(url, holder, expected, timeout))
        return None
    p = parser(__doc__ or "")
    p.add_argument("--count", type=int, default=0, help="escalations (default 10000; --quick 300)")
    p.add_argument("--window", type=float, default=0.0, help="seconds over which they fall due (default 60)")
    p.add_argument("--lead", type=float, default=0.0, help="seconds from seeding to the first due time")
    args = p.parse_args(argv)
    return emit("timers", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
