"""A bad day at Slack with two replicas, judged only from what the Slack side recorded.

Two real `serve` processes on one PostgreSQL database take 60 `/escalate` commands (ten
expert channels, each question from another person); every fifth is sent again to the other
replica, as Slack does when it retries. Slack answers 25% of posts and card updates with 429
(Retry-After 1), 10% with 500 `internal_error`, and 5% are posted but their answer is lost
(2.5% the connection dropped, 2.5% no answer until the client gives up). Mid-burst one
replica is killed with SIGKILL (its leases are expired, as waiting them out would) and
started again; commands it dropped go to the other one.

From the fake's records only: every acknowledged question has exactly one card, one nudge in
its thread and one confirmation to its requester, and no expert channel ever received two
posts less than a second apart. 60 commands rather than the 150 of the original run keep the
test near a minute (the per-channel limit sets the pace); the faults are the same.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update

from storage import Store
from storage.tables import EscalationRow, OutboxRow
from tests.conftest import on_postgres
from tests.slack.fake_slack import FakeSlack

from .processes import Serve, escalate_form, post_command, serve

COMMANDS = 60
CHANNELS = 10
# 40% of posts and updates fail; drawn from this list: 429 25%, 500 10%, drop 2.5%, hang 2.5%.
FAULTS = ("429",) * 10 + ("500",) * 4 + ("drop", "timeout")
CONFIG = (
    "defaults:\n"
    '  policy: {nudge_after: 10s, assign_after: 4h, deflection_wait: "off", digest_at: "off"}\n'
    "communities:\n"
    + "".join(
        f"  - key: c{n}\n    name: Community {n}\n    slack: {{channel: C0CHAOS{n:03d}}}\n"
        '    experts: ["slack:U0ADA", "slack:U0BEN"]\n'
        for n in range(CHANNELS)
    )
)
_QUESTION = re.compile(r"\[q(\d{3})\]")


def question(n: int) -> str:
    return f"chaos [q{n:03d}] why does the sync stall?"


async def expire_leases_of(store: Store, holder: str) -> None:
    """What waiting out a dead replica's leases (120 s outbox, 60 s timers) would do."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with store.unit_of_work() as uow:
        for table in (OutboxRow, EscalationRow):
            await uow.session.execute(
                update(table)
                .where(table.lease_owner == holder, table.lease_until.is_not(None))
                .values(lease_until=past)
            )


def numbers_in(text: object) -> list[int]:
    return [int(found) for found in _QUESTION.findall(str(text or ""))]


@pytest.mark.skipif(not on_postgres(), reason="several replicas need PostgreSQL (TEST_DATABASE_URL)")
async def test_a_bad_day_at_slack_with_two_replicas_one_killed(
    database_url: str, store: Store, fake: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(CONFIG)

    def start(name: str) -> Serve:
        return serve(name, tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)

    first, second = start("replica-a"), start("replica-b")
    restarted: Serve | None = None
    acknowledged: set[int] = set()
    started = time.monotonic()
    try:
        await asyncio.gather(first.ready(), second.ready())
        fake.chaos(0.4, seed=26, faults=FAULTS, retry_after="1", hang=11.0, methods=("chat.postMessage", "chat.update"))
        forms = [
            escalate_form(f"U0Q{n:05d}", f"c{n % CHANNELS} {question(n)}", fake.response_url(f"q{n}"), f"trig.{n}")
            for n in range(COMMANDS)
        ]
        async with aiohttp.ClientSession() as http:

            async def send(n: int, to: Serve, fallback: Serve) -> None:
                status = await post_command(http, to.port, forms[n])
                if status is None:  # the replica died with it in flight: Slack tries again, elsewhere
                    status = await post_command(http, fallback.port, forms[n])
                if status == 200:
                    acknowledged.add(n)

            tasks: list[asyncio.Task[None]] = []

            def burst(n: int, one: Serve, other: Serve) -> None:
                tasks.append(asyncio.create_task(send(n, one, other)))
                if n % 5 == 0:  # retried by Slack, and the retry lands on the other replica
                    tasks.append(asyncio.create_task(send(n, other, one)))

            for n in range(30):
                burst(n, *((first, second) if n % 2 else (second, first)))
                await asyncio.sleep(0.05)
            await first.kill()  # mid-burst: commands and deliveries in flight
            await expire_leases_of(store, "replica-a")
            restarted = start("replica-a2")
            for n in range(30, 45):
                burst(n, second, second)
                await asyncio.sleep(0.05)
            await restarted.ready()
            for n in range(45, COMMANDS):
                burst(n, *((restarted, second) if n % 2 else (second, restarted)))
                await asyncio.sleep(0.05)
            await asyncio.gather(*tasks)
        assert acknowledged == set(range(COMMANDS))

        def arrived() -> tuple[int, int, int]:
            cards = [m for m in fake.posted() if not m.get("thread_ts") and m["channel"].startswith("C")]
            nudges = [m for m in fake.posted() if m.get("thread_ts")]
            told = [m for m in fake.posted() if m["channel"].startswith("D") and "is posted" in str(m["text"])]
            return len(cards), len(nudges), len(told)

        while min(arrived()) < COMMANDS:
            # About 70 s on a loaded two-core machine: the retries' exponential back-off makes the tail.
            assert time.monotonic() - started < 110, f"not all arrived in time: (cards, nudges, told) {arrived()}"
            await asyncio.sleep(0.5)
        await asyncio.sleep(2.0)  # more sweeps and deliveries: a double would show now
        print(f"chaos: all delivered {time.monotonic() - started:.1f} s after the replicas were ready")
    finally:
        fake.chaos(0)
        codes = await asyncio.gather(*(r.stop() for r in (second, restarted) if r is not None))
        if first.process.poll() is None:
            await first.kill()
    assert codes == [0] * len(codes), [r.log()[-2000:] for r in (second, restarted) if r is not None]

    # -- Judged from the fake's records only.
    messages = fake.posted()
    cards: dict[int, list[dict[str, object]]] = defaultdict(list)
    card_of: dict[str, int] = {}
    for message in messages:
        if message["channel"].startswith("C") and not message.get("thread_ts"):
            for n in numbers_in(message["text"]):
                cards[n].append(message)
                card_of[str(message["ts"])] = n
    assert {n: len(found) for n, found in cards.items() if len(found) != 1} == {}, "a card missing or doubled"
    assert sorted(cards) == list(range(COMMANDS))
    nudges = Counter(card_of.get(str(m["thread_ts"])) for m in messages if m.get("thread_ts"))
    assert nudges == dict.fromkeys(range(COMMANDS), 1), "a nudge missing or doubled"
    confirmations = Counter(
        m["channel"] for m in messages if m["channel"].startswith("D") and "Your question is posted" in str(m["text"])
    )
    assert confirmations == {f"D0Q{n:05d}": 1 for n in range(COMMANDS)}, "a confirmation missing or doubled"
    # Pacing held across the replicas, the kill and the restart: never two posts in one channel
    # within a second (a post Slack handled counts, even when its answer was lost).
    for n in range(CHANNELS):
        arrivals = sorted(
            c.at
            for c in fake.calls
            if c.method == "chat.postMessage" and c.status == 200 and c.args.get("channel") == f"C0CHAOS{n:03d}"
        )
        gaps = [round(b - a, 3) for a, b in pairwise(arrivals)]
        assert min(gaps) >= 1.0, (n, sorted(gaps)[:5])
    faults = Counter(c.status for c in fake.calls if c.method in ("chat.postMessage", "chat.update"))
    assert faults[429] >= 20 and faults[500] >= 8, faults
    lookups = [c for c in fake.calls if c.method in ("conversations.history", "conversations.replies")]
    assert lookups, "no answer was lost: the storm did not test the lookup"
