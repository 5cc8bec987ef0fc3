"""Routing by expertise (issue 22): how often it picks who actually answers, and what it costs.

    python -m bench.expertise [--quick] [--db sqlite|postgres] [--sizes 10000,1000000]

Accuracy: the generated history of bench/expertise_data.py (5,000 resolved questions, 20
topics, 8 experts) is stored and searched with the real knowledge base; for each of 500
held-out questions, asked in order, each strategy names its first choice and its first three,
scored against who actually answered. Round robin and least loaded are the baselines; the
"topic oracle" knows each question's topic and names its current primary and secondary
expert: the ceiling for any ranking, given that a fifth of answers come from someone else.
Questions stay open for the next ``HOLD`` arrivals, so least loaded and the ties of
expertise see real loads; "spread" is the most questions any expert was given over the
mean (1.0: perfectly even).

Cost, on the bench/seed.py history at each size: the knowledge search behind the evidence
(shared with the deflection, which ran it already), the card lookup expertise adds to it,
the ranking itself, and a whole assignment (a swept ``assign`` step) by expertise against
round robin.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from bot.config import parse_config
from bot.runtime import Runtime
from storage import Store
from workflows.clock import FakeClock
from workflows.commands import Tick
from workflows.decide import decide
from workflows.decide_inputs import _precedents
from workflows.expertise import by_expertise
from workflows.model import SYSTEM, Expert, Platform, Precedent, Step
from workflows.ports import Scope

from . import expertise_data as data
from .common import database, emit, parser, summary, table
from .seed import CONFIG as SEED_CONFIG
from .seed import opened, seed_history
from .sinks import NullSender
from .text import question

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HOLD = 8  # arrivals a question stays open for: about one open question per expert
SCOPE = Scope("slack", "T0ACME")
# The seeded history's sdk community twice: by expertise and by round robin.
COST_CONFIG = (
    SEED_CONFIG
    + """
  - key: sdkx
    name: SDK by expertise
    slack: {channel: C0SDKX001}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
    rotation: expertise
"""
)

Strategy = Callable[[data.Asked, Sequence[Precedent], dict[str, int], int], list[str]]


async def evidence(store: Store, question_text: str, community: str) -> tuple[Precedent, ...]:
    async with store.unit_of_work() as uow:
        hits = await uow.knowledge.related(question_text, SCOPE, community, 20)
        return await _precedents(uow, hits)


def _experts() -> list[Expert]:
    community = data.directory().get(data.COMMUNITY)
    assert community is not None
    return list(community.experts)


async def accuracy(url: str, resolved: int, held_out: int) -> dict[str, Any]:
    past, asked = data.history(resolved, held_out, NOW)
    await data.seed_answers(url, past, NOW)
    experts = _experts()
    keys = [e.key for e in experts]

    # As choose_expert: each strategy's order among equals is the rotation's, from the expert
    # after the last one chosen (``n``: how many were chosen before, in turn).
    def in_turn(n: int) -> list[Expert]:
        return [experts[(n + k) % len(experts)] for k in range(len(experts))]

    def round_robin(q: data.Asked, ev: Sequence[Precedent], loads: dict[str, int], n: int) -> list[str]:
        return [e.key for e in in_turn(n)]

    def least_loaded(q: data.Asked, ev: Sequence[Precedent], loads: dict[str, int], n: int) -> list[str]:
        return [e.key for e in sorted(in_turn(n), key=lambda e: loads.get(e.key, 0))]

    def expertise(q: data.Asked, ev: Sequence[Precedent], loads: dict[str, int], n: int) -> list[str]:
        return [e.key for e in by_expertise(in_turn(n), ev, loads, NOW)]

    def oracle(q: data.Asked, ev: Sequence[Precedent], loads: dict[str, int], n: int) -> list[str]:
        first = f"slack:{data.EXPERTS[data.primary(q.topic, NOW, NOW)]}"
        second = f"slack:{data.EXPERTS[data.secondary(q.topic)]}"
        return [first, second, *sorted((k for k in keys if k not in (first, second)), key=keys.index)]

    strategies: dict[str, Strategy] = {
        "round robin": round_robin,
        "least loaded": least_loaded,
        "expertise": expertise,
        "topic oracle": oracle,
    }
    store = Store(url)
    try:
        found = [await evidence(store, q.question, data.COMMUNITY) for q in asked]
    finally:
        await store.close()
    results: dict[str, Any] = {}
    for name, strategy in strategies.items():
        loads: dict[str, int] = {}
        given: dict[str, int] = dict.fromkeys(keys, 0)
        open_now: deque[str] = deque()
        top1 = top3 = 0
        turn = 0
        for q, ev in zip(asked, found, strict=True):
            ranked = strategy(q, ev, loads, turn)
            top1 += ranked[0] == q.answered_by
            top3 += q.answered_by in ranked[:3]
            chosen = ranked[0]
            turn = keys.index(chosen) + 1
            given[chosen] += 1
            loads[chosen] = loads.get(chosen, 0) + 1
            open_now.append(chosen)
            if len(open_now) > HOLD:
                done = open_now.popleft()
                loads[done] -= 1
        mean = sum(given.values()) / len(given)
        results[name] = {
            "top1": round(top1 / len(asked), 3),
            "top3": round(top3 / len(asked), 3),
            "spread": round(max(given.values()) / mean, 2),
            "given": sorted(given.values(), reverse=True),
        }
    results["with_evidence"] = round(sum(1 for ev in found if ev) / len(found), 3)
    return results


async def _due_assignments(url: str, community: str, count: int, rng: random.Random, tag: str) -> None:
    """``count`` questions in ``community`` whose assignment is due now, each carrying the
    evidence its open found (a real search of the history)."""
    directory = parse_config(COST_CONFIG, "bench-cost.yaml")
    store = Store(url)
    try:
        async with store.unit_of_work() as uow:
            for n in range(count):
                asked_text = question(rng)
                hits = await uow.knowledge.related(asked_text, SCOPE, "sdk", 20)
                precedents = await _precedents(uow, hits)
                esc = opened(directory, community, n, NOW - timedelta(hours=3), asked_text, prefix=tag)
                esc = esc.model_copy(update={"precedents": precedents})
                assert esc.next_due_at is not None
                nudge = Tick(
                    id=f"{tag}-n{n}", escalation_id=esc.id, actor=SYSTEM, step=Step.nudge, due_at=esc.next_due_at
                )
                esc = decide(esc, nudge, esc.next_due_at).escalation
                assert esc.next_step == Step.assign
                await uow.escalations.add(esc)
    finally:
        await store.close()


async def cost(url: str, size: int, quick: bool) -> dict[str, Any]:
    rng = random.Random(size)
    store = Store(url)
    searches: list[float] = []
    lookups: list[float] = []
    ranking: list[float] = []
    # CPU time too: on a loaded machine the wall time of a pure function is mostly waiting.
    ranking_cpu: list[float] = []
    experts = [e for e in (data.directory().get(data.COMMUNITY) or data.directory().all()[0]).experts]
    try:
        for _ in range(40 if quick else 200):
            asked_text = question(rng)
            async with store.unit_of_work() as uow:
                t0 = time.perf_counter()
                hits = await uow.knowledge.related(asked_text, SCOPE, "sdk", 20)
                t1 = time.perf_counter()
                precedents = await _precedents(uow, hits)
                t2 = time.perf_counter()
            c0 = time.process_time()
            by_expertise(experts, precedents, {}, NOW)
            t3 = time.perf_counter()
            ranking_cpu.append((time.process_time() - c0) * 1000)
            searches.append((t1 - t0) * 1000)
            lookups.append((t2 - t1) * 1000)
            ranking.append((t3 - t2) * 1000)
    finally:
        await store.close()
    per_step: dict[str, list[float]] = {"sdkx": [], "sdk": []}
    count = 20 if quick else 100
    for round_ in range(2 if quick else 4):
        for community in per_step:
            await _due_assignments(url, community, count, rng, f"due-{size}-{round_}-{community}")
            store = Store(url)
            runtime = Runtime(
                store,
                parse_config(COST_CONFIG, "bench-cost.yaml"),
                {Platform.slack: NullSender()},
                clock=FakeClock(NOW),
                holder="expertise",
            )
            try:
                t0 = time.perf_counter()
                executed = await runtime.sweep()
                per_step[community].append((time.perf_counter() - t0) * 1000 / count)
                assert executed == count, (executed, count)
                async with store.unit_of_work() as uow:
                    await uow.session.execute(text("DELETE FROM escalations WHERE id LIKE 'due-%'"))
            finally:
                await store.close()
    return {
        "evidence_search_ms": summary(searches),
        "card_lookup_ms": summary(lookups),
        "ranking_ms": summary(ranking),
        "ranking_cpu_ms": summary(ranking_cpu),
        "assign_step_expertise_ms": summary(per_step["sdkx"]),
        "assign_step_round_robin_ms": summary(per_step["sdk"]),
    }


async def run(args: Any) -> dict[str, Any]:
    # Seeded assignments are all hours late by design: that warning is not news here.
    logging.getLogger("escalation_bot.service").setLevel(logging.ERROR)
    resolved, held_out = (600, 100) if args.quick else (5000, 500)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([300, 600] if args.quick else [10000, 1000000])
    results: dict[str, Any] = {"resolved": resolved, "held_out": held_out, "hold": HOLD, "sizes": sizes}
    if not args.skip_accuracy:
        async with database(args.db) as url:
            results["accuracy"] = await accuracy(url, resolved, held_out)
    table(
        f"Who answers? {held_out} held-out questions, {resolved} resolved before, db={args.db}",
        ["strategy", "top-1", "top-3", "spread (max/mean given)", "given per expert"],
        [
            [name, r["top1"], r["top3"], r["spread"], " ".join(map(str, r["given"]))]
            for name, r in results.get("accuracy", {}).items()
            if isinstance(r, dict)
        ],
    )
    results["cost"] = {}
    if args.skip_cost:
        return results
    async with database(args.db) as url:
        seeded = 0
        for size in sizes:
            started = time.perf_counter()
            await seed_history(url, size - seeded, NOW, offset=seeded)
            seeded = size
            seed_s = round(time.perf_counter() - started, 1)
            if args.db == "postgres":
                store = Store(url)
                async with store.engine.connect() as conn:
                    # As a production database would be: vacuumed and analysed, not mid-autovacuum.
                    auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await auto.exec_driver_sql("VACUUM ANALYZE")
                await store.close()
            figures = await cost(url, size, args.quick)
            figures["seed_s"] = seed_s
            results["cost"][str(size)] = figures
            print(f"{size} escalations seeded in {seed_s} s", flush=True)
    table(
        f"Cost of routing by expertise (ms), db={args.db}",
        [
            "escalations",
            "search p50",
            "search p99",
            "cards p50",
            "cards p99",
            "ranking p99",
            "ranking CPU p99",
            "assign expertise p50",
            "assign round robin p50",
        ],
        [
            [
                size,
                f["evidence_search_ms"]["p50"],
                f["evidence_search_ms"]["p99"],
                f["card_lookup_ms"]["p50"],
                f["card_lookup_ms"]["p99"],
                f["ranking_ms"]["p99"],
                f["ranking_cpu_ms"]["p99"],
                f["assign_step_expertise_ms"]["p50"],
                f["assign_step_round_robin_ms"]["p50"],
            ]
            for size, f in results["cost"].items()
        ],
    )
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--sizes", help="comma-separated history sizes for the cost (default 10000,1000000)")
    p.add_argument("--skip-cost", action="store_true", help="the accuracy only")
    p.add_argument("--skip-accuracy", action="store_true", help="the cost only")
    args = p.parse_args(argv)
    return emit("expertise", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
