"""Delivery throughput under Slack's per-channel limit.

    python -m bench.delivery [--quick] [--db sqlite|postgres] [--effects 2000 --channels 50] [--replicas 2]

``--effects`` cards are queued in the outbox (through the service: one ``post_card`` per opened
escalation, spread evenly over ``--channels`` communities, each requester distinct). They are
delivered by the real ``Runtime`` (APScheduler dispatcher, the real ``Dispatcher``, the real
Slack ``Sender`` of ``adapters/slack`` and the real ``Pacer``) to a fake Slack Web API in another
process that accepts at most one message per second per channel and answers 429 with
``Retry-After: 1`` beyond it. Reported: total time (from the dispatcher's start until the outbox is empty, and from the
first accepted message to the last) vs the theoretical minimum the limit allows ((messages per
channel - 1) seconds), the number of 429s, and that nothing is lost or doubled (every row sent,
every card accepted by its channel exactly once). Each card is followed by its requester's
confirmation (an outbox effect of its own: a ``chat.postMessage`` to the requester's DM), so the
fake accepts two messages per opened question.

``--replicas 2`` (PostgreSQL) delivers with two runtimes, each with its own dispatcher, Slack
client and pacer, as two ``serve`` processes have: their pacing is shared through the database
(``SharedPacer``), and the fake's 429 count says whether a channel was ever sent to faster than
it allows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import aiohttp
from sqlalchemy import select

from adapters.slack import SlackPlatform
from bot.config import parse_config
from bot.pacing import Pacer, SharedPacer
from bot.runtime import Runtime
from storage import Store
from storage.tables import OutboxRow
from workflows.model import PersonRef, Platform

from .common import database, emit, parser, ratio, table
from .fakes import fake_process


def config(channels: int) -> str:
    lines = [
        "defaults:",
        '  policy: {nudge_after: 30m, assign_after: 2h, deflection_wait: "off", digest_at: "off"}',
        "communities:",
    ]
    for n in range(channels):
        lines += [
            f"  - key: c{n:03d}",
            f"    name: Community {n}",
            f"    slack: {{channel: C0CH{n:05d}}}",
            f'    experts: ["slack:U0EXP{n:04d}"]',
        ]
    return "\n".join(lines) + "\n"


async def stats(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/stats") as response:
        data: dict[str, Any] = await response.json()
        return data


async def run(args: Any) -> dict[str, Any]:
    effects = args.effects or (100 if args.quick else 2000)
    channels = args.channels or (20 if args.quick else 50)
    per_channel = effects // channels
    effects = per_channel * channels
    directory = parse_config(config(channels), "delivery.yaml")
    replicas = max(1, args.replicas)
    if replicas > 1 and args.db != "postgres":
        raise SystemExit("--replicas above 1 needs --db postgres (SQLite serves one process)")
    with fake_process("slack-limited") as slack:
        async with database(args.db) as url:
            store = Store(url)
            runtimes: list[Runtime] = []
            platforms: list[SlackPlatform] = []
            for n in range(replicas):
                holder = f"delivery-{n}"
                # As serve does: paced in the database on PostgreSQL, in the process on SQLite.
                # A store of its own, as a process has (stopping a runtime closes its store).
                replica_store = store if n == 0 else Store(url)
                pacer = SharedPacer(replica_store, holder) if args.db == "postgres" else Pacer()
                runtime = Runtime(replica_store, directory, {}, pacer=pacer, holder=holder)
                platform = SlackPlatform(
                    service=runtime.service,
                    clock=runtime.clock,
                    bot_token="xoxb-bench",
                    signing_secret="bench-secret",
                    api_url=f"{slack}/api/",
                )
                runtime.dispatcher.senders[Platform.slack] = platform.sender
                runtimes.append(runtime)
                platforms.append(platform)
            for i in range(per_channel):
                for n in range(channels):
                    requester = PersonRef(platform=Platform.slack, id=f"U0R{i:03d}{n:03d}", tenant="T0ACME")
                    await runtimes[0].service.open(
                        requester=requester, community_key=f"c{n:03d}", question=f"Question {i} for community {n}?"
                    )
            logging.getLogger("apscheduler").setLevel(logging.ERROR)
            started = time.perf_counter()
            for runtime in runtimes:
                runtime.start()
            timeout = per_channel * 3 + 60
            try:
                while time.perf_counter() - started < timeout:
                    async with store.unit_of_work() as uow:
                        counts = await uow.outbox.counts()
                    if counts.get("pending", 0) == 0:
                        break
                    await asyncio.sleep(0.25)
                wall = time.perf_counter() - started
                async with store.unit_of_work() as uow:
                    owners = Counter(
                        str(owner) for owner in (await uow.session.execute(select(OutboxRow.lease_owner))).scalars()
                    )
            finally:
                for runtime in runtimes:
                    await runtime.stop()
                for platform in platforms:
                    await platform.close()
                await store.close()
            seen = await stats(slack)
    cards = {k: v for k, v in seen["calls"].items() if k.startswith("chat.postMessage")}
    span = (seen["last_accepted"] or 0) - (seen["first_accepted"] or 0)
    minimum = float(per_channel - 1)
    lost = counts.get("pending", 0) + counts.get("failed", 0)
    # Each card must reach its expert channel exactly once (the other accepted messages are
    # the requesters' confirmations, one per direct-message channel).
    per_channel_accepted = seen.get("accepted_per_channel", {})
    cards_per_channel = [per_channel_accepted.get(f"C0CH{n:05d}", 0) for n in range(channels)]
    cards_accepted = sum(cards_per_channel)
    lost += sum(max(0, per_channel - c) for c in cards_per_channel)
    duplicated = sum(max(0, c - per_channel) for c in cards_per_channel)
    result = {
        "effects": effects,
        "replicas": replicas,
        "delivered_by": dict(owners),
        "channels": channels,
        "per_channel": per_channel,
        "theoretical_min_s": minimum,
        "first_to_last_accepted_s": round(span, 2),
        "wall_s": round(wall, 2),
        "ratio_to_minimum": ratio(span, minimum),
        "wall_ratio_to_minimum": ratio(wall, minimum),
        "rejected_429": seen["rejected_429"],
        "min_gap_in_a_channel_s": round(seen["min_gap_s"], 3) if seen.get("min_gap_s") is not None else None,
        "outbox": counts,
        "lost": lost,
        "duplicated": duplicated,
        "cards_accepted_in_expert_channels": cards_accepted,
        "accepted_messages": seen["accepted"],
        "slack_calls": seen["calls"],
        "limit_violations": seen["violations"],
    }
    table(
        f"Delivery: {effects} cards over {channels} channels at 1 msg/s/channel, db={args.db}, replicas={replicas}",
        ["figure", "value"],
        [[k, v] for k, v in result.items() if k not in ("slack_calls", "outbox")]
        + [["outbox", counts], ["chat.postMessage calls", cards]],
    )
    assert lost == 0 and duplicated == 0, (counts, cards_per_channel)
    assert counts.get("sent", 0) == 2 * effects, counts  # each card and its requester's confirmation
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--effects", type=int, default=0)
    p.add_argument("--channels", type=int, default=0)
    p.add_argument("--replicas", type=int, default=1, help="runtimes delivering together (PostgreSQL)")
    args = p.parse_args(argv)
    return emit("delivery", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
