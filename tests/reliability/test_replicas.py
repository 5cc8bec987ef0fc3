"""Two real `serve` processes on one PostgreSQL database, 1,000 timers due together.

Each step is executed once (audit rows) and each nudge is posted once (the fake Slack's
recorded calls). On SQLite, where one process is all that is supported, the same setup
shows the second `serve` refused instead.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import Directory, parse_config
from storage import Store
from storage.tables import AuditRow, OutboxRow
from tests.conftest import on_postgres
from tests.slack.fake_slack import FakeSlack
from workflows.commands import Open
from workflows.decide import decide
from workflows.model import MessageRef, PersonRef, Platform

from .processes import serve

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
CHANNELS = 200
ESCALATIONS = 1000


def config_text(channels: int) -> str:
    lines = [
        "defaults:",
        "  policy: {nudge_after: 30m, assign_after: 4h, owner_reminder_after: 4h, reassign_after: 1d,",
        "           requester_reminder_after: 1d}",
        "communities:",
    ]
    for n in range(channels):
        lines += [
            f"  - key: c{n:03d}",
            f"    name: Community {n}",
            f"    slack: {{channel: C{n:08d}}}",
            '    experts: ["slack:U0ADA", "slack:U0BEN"]',
        ]
    return "\n".join(lines) + "\n"


async def seed(store: Store, directory: Directory, count: int, opened_at: datetime) -> list[str]:
    """Open escalations straight through decide() and the repositories, cards already posted,
    opened long enough ago that every nudge is due now."""
    ids = []
    communities = directory.all()
    async with store.unit_of_work() as uow:
        for n in range(count):
            community = communities[n % len(communities)]
            command = Open(
                id=f"open-{n}",
                escalation_id=f"esc-{n:05d}",
                actor=SAM,
                tenant="slack:T0ACME",
                community_key=community.key,
                question=f"question {n}",
                community=community,
            )
            esc = decide(None, command, opened_at).escalation
            await uow.escalations.add(esc)
            channel = community.channels[0]
            card = MessageRef(platform=Platform.slack, channel=channel.id, id=f"1772440000.{n:06d}", tenant="T0ACME")
            await uow.messages.add(esc.id, "card", card, opened_at, {"version": esc.version})
            ids.append(esc.id)
    return ids


async def wait_for(check: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


@pytest.mark.skipif(
    not on_postgres(),
    reason="several replicas need PostgreSQL (TEST_DATABASE_URL); on SQLite the refusal of a second "
    "serve is proven by tests/test_serve.py::test_a_second_serve_on_the_same_sqlite_file_is_refused",
)
async def test_two_replicas_run_each_of_1000_due_steps_once_and_post_each_nudge_once(
    database_url: str, store: Store, fake: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(config_text(CHANNELS))
    directory = parse_config(config.read_text(), str(config))
    replicas = [
        serve(name, tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)
        for name in ("replica-a", "replica-b")
    ]
    try:
        await asyncio.gather(*(r.ready() for r in replicas))
        # Seeded once both run, so that both are in the race for the same due rows.
        ids = await seed(store, directory, ESCALATIONS, datetime.now(UTC) - timedelta(minutes=31))

        async def done() -> bool:
            async with store.unit_of_work() as uow:
                nudged = await uow.audit.count(action="nudged")
                counts = await uow.outbox.counts()
            return nudged >= ESCALATIONS and counts.get("pending", 0) == 0

        started = time.monotonic()
        await wait_for(done, 120, "1,000 nudges executed and delivered")
        print(f"1,000 steps executed and delivered by two replicas in {time.monotonic() - started:.1f} s")
        await asyncio.sleep(1.5)  # a few more sweep and dispatch rounds: any double would show now

        async with store.unit_of_work() as uow:
            steps = (
                await uow.session.execute(
                    select(AuditRow.escalation_id, AuditRow.action, func.count()).group_by(
                        AuditRow.escalation_id, AuditRow.action
                    )
                )
            ).all()
            rows = list((await uow.session.execute(select(OutboxRow))).scalars().all())
        nudged = {esc: n for esc, action, n in steps if action == "nudged"}
        assert sorted(nudged) == sorted(ids)
        assert set(nudged.values()) == {1}  # each step executed once
        assert all(n == 1 for _, _, n in steps)  # and nothing else executed twice
        assert Counter(r.status for r in rows) == {"sent": len(rows)}

        replies = [m for m in fake.posted() if m.get("thread_ts")]
        per_escalation = Counter(m["metadata"]["event_payload"]["escalation_id"] for m in replies)
        assert sorted(per_escalation) == sorted(ids)
        assert set(per_escalation.values()) == {1}  # each nudge posted once
        keys = Counter(m["metadata"]["event_payload"]["idempotency_key"] for m in replies)
        assert set(keys.values()) == {1}
        # The work was really shared: both replicas delivered.
        assert {r.lease_owner for r in rows} == {"replica-a", "replica-b"}
    finally:
        codes = await asyncio.gather(*(r.stop() for r in replicas))
    assert codes == [0, 0], [r.log()[-2000:] for r in replicas]
    for replica in replicas:
        assert "Traceback" not in replica.log(), replica.log()[-3000:]
