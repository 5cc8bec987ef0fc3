"""The floor under a durable acknowledgement: what bare Bolt's acknowledgement costs, set
against the cheapest durable write and against a whole command, in one process.

    python -m bench.floor [--quick] [--db sqlite|postgres]

Benchmark 1's "throughput at least half of bare Bolt" gives serve a CPU budget of twice what
bare Bolt spends on a request. This measures, in-process and on the CPU clock (no HTTP, no
load generator, so no noise from the other processes), each of:

- ``bolt_ack``: the bare baseline's Bolt app (``bench.bare.bolt_app``) dispatching a signed
  thread-reply event: what the baseline does for a request, its HTTP aside.
- ``empty_unit_of_work``: ``BEGIN``/``COMMIT`` through ``Store.unit_of_work()``.
- ``one_insert``: a unit of work that records one event id (``InboundRepository.record``),
  the least a durable acknowledgement can write.
- ``open_command``: ``EscalationService.open`` of a question in a community without
  deflection: the escalation, its scopes, the card's outbox row, the audit row, committed.
- ``reply_on_card``: an expert's thread reply on a question card
  (``EscalationService.handle_on_card``): the card's escalation found and locked, the event
  id recorded, the escalation saved with its audit row (and outbox rows, if any), committed.

and reports each as a multiple of ``bolt_ack`` and of the budget (2 x ``bolt_ack``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.runtime import Runtime
from storage import Store
from workflows.clock import FakeClock
from workflows.commands import Reply
from workflows.model import Escalation, MessageRef, PersonRef, Platform
from workflows.ports import Scope

from .bare import bolt_app
from .common import database, emit, parser, ratio, table
from .fakes import fake_process
from .seed import SAM, directory
from .sinks import NullSender

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ADA = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0ACME")
SECRET = "bench-signing-secret-0123456789ab"
CARDS = 100


def reply_event(n: int) -> tuple[str, dict[str, str | Sequence[str]]]:
    ts = f"1772450000.{n:06d}"
    body = json.dumps(
        {
            "token": "x",
            "team_id": "T0ACME",
            "api_app_id": "A0ESCALATE",
            "event": {
                "type": "message",
                "user": "U0ADA",
                "text": "Have you tried clearing the cache? This looks like the token refresh bug.",
                "ts": ts,
                "thread_ts": "1772440000.000100",
                "channel": "C0SDK0001",
                "channel_type": "channel",
                "event_ts": ts,
                "team": "T0ACME",
            },
            "type": "event_callback",
            "event_id": f"Ev{n:010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0ACME", "user_id": "U0BOT", "is_bot": True}],
        }
    )
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers: dict[str, str | Sequence[str]] = {
        "content-type": "application/json",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
    }
    return body, headers


async def cpu_ms_per_op(operation: Callable[[int], Awaitable[None]], count: int, warm_up: int = 20) -> float:
    """CPU milliseconds per call, after a few calls of warm-up (caches, first connections)."""
    for n in range(min(warm_up, count)):
        await operation(-n - 1)
    t0 = time.process_time()
    for n in range(count):
        await operation(n)
    return (time.process_time() - t0) / count * 1000


Operation = Callable[[int], Awaitable[None]]


async def measure(url: str, count: int, bolt_ack: Operation) -> dict[str, float]:
    """CPU ms per call of each operation, ``count`` calls of each."""
    store, ops = await operations(url, bolt_ack)
    # Interleaved rounds, so a change in the machine's state during the run touches all alike;
    # each figure is the median of its rounds.
    rounds = 4
    per_round: dict[str, list[float]] = {name: [] for name, _ in ops}
    try:
        for _ in range(rounds):
            for name, op in ops:
                per_round[name].append(await cpu_ms_per_op(op, max(1, count // rounds)))
    finally:
        await store.close()
    return {name: round(sorted(values)[len(values) // 2], 4) for name, values in per_round.items()}


async def operations(url: str, bolt_ack: Operation) -> tuple[Store, list[tuple[str, Operation]]]:
    """The operations, ready to call (the cards to reply on opened and posted), and their store to close."""
    store = Store(url)
    runtime = Runtime(store, directory(), {Platform.slack: NullSender()}, clock=FakeClock(NOW), holder="floor")

    async def empty_unit_of_work(_: int) -> None:
        async with store.unit_of_work():
            pass

    async def one_insert(n: int) -> None:
        async with store.unit_of_work() as uow:
            await uow.inbound.record("floor", f"event-{n}-{time.perf_counter_ns()}", NOW)

    async def open_command(n: int) -> None:
        await runtime.service.open(
            requester=SAM, community_key="nodeflect", question=f"Push tokens expire after an update ({n})"
        )

    # Cards to reply on: replies go round them, so no escalation's history grows long.
    opened = [
        await runtime.service.open(requester=SAM, community_key="nodeflect", question=f"Crash on start ({n})")
        for n in range(CARDS)
    ]
    await runtime.dispatch()
    async with store.unit_of_work() as uow:
        cards = await uow.messages.for_escalations([o.escalation.id for o in opened if o.escalation], kind="card")
    refs = [ref for found in cards.values() for _, ref, _ in found]
    assert len(refs) == CARDS, refs
    scope = Scope.of(ADA)

    async def reply_on_card(n: int) -> None:
        ref = refs[n % len(refs)]
        unique = f"{n}-{time.perf_counter_ns()}"  # each round numbers its calls from 0 again

        def reply(found: Escalation) -> Reply:
            message = MessageRef(platform=Platform.slack, channel=ref.channel, id=f"9.{unique}", tenant="T0ACME")
            return Reply(
                id=f"floor-reply-{unique}", escalation_id=found.id, actor=ADA, message=message, text="try this"
            )

        outcome = await runtime.service.handle_on_card(
            "slack", ref.channel, ref.id, reply, scope=scope, event=("floor", f"reply-{unique}")
        )
        assert outcome is not None and outcome.changed

    return store, [
        ("bolt_ack", bolt_ack),
        ("empty_unit_of_work", empty_unit_of_work),
        ("one_insert", one_insert),
        ("open_command", open_command),
        ("reply_on_card", reply_on_card),
    ]


async def run(args: Any) -> dict[str, Any]:
    from slack_bolt.request.async_request import AsyncBoltRequest

    count = args.count or (50 if args.quick else 2000)
    # Bolt asks the Web API's auth.test once, at its first request (warm-up, not timed): the fake answers.
    with fake_process("slack") as slack_api:
        app = bolt_app(SECRET, f"{slack_api}/api/")

        async def bolt_ack(n: int) -> None:
            body, headers = reply_event(n)
            response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
            assert response.status == 200, response.body

        async with database(args.db) as url:
            figures = await measure(url, count, bolt_ack)

    budget = 2 * figures["bolt_ack"]
    rows = [
        [name, ms, ratio(ms, figures["bolt_ack"]), ratio(ms, budget)]
        for name, ms in figures.items()
        if name != "bolt_ack"
    ]
    rows.insert(0, ["bolt_ack", figures["bolt_ack"], 1.0, 0.5])
    table(
        f"CPU ms per operation, in process, db={args.db} (budget for 1/2 of bare Bolt = 2 x bolt_ack)",
        ["operation", "cpu ms", "x bolt_ack", "x budget"],
        rows,
    )
    return {
        "operations_each": count,
        "cpu_ms": figures,
        "budget_ms": round(budget, 4),
        "x_budget": {name: ratio(ms, budget) for name, ms in figures.items()},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--count", type=int, default=0, help="operations of each kind (default 2000; --quick 50)")
    args = p.parse_args(argv)
    return emit("floor", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
