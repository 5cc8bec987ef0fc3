"""`kill -9` while delivering: a new process delivers the rest, nothing lost, no duplicate.

The fake Slack answers slowly, so deliveries are in flight (handled by Slack, not yet
marked sent) when the process dies. Its leases are then expired in the database (what
waiting the lease out would do, without the wait). A new process picks the rows up,
finds the messages already posted by their metadata, and delivers the rest. Timers that
fell due while no process ran fire once after the restart and are reported late.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from bot.config import parse_config
from bot.runtime import Runtime
from storage import Store
from storage.tables import EscalationRow, OutboxRow
from tests.slack.fake_slack import FakeSlack
from workflows.clock import FakeClock
from workflows.model import PersonRef, Platform

from .ledger import POSTING, assert_exactly_once_in_order, outbox_rows
from .processes import serve

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
CHANNELS = 6
CONFIG = (
    "defaults:\n"
    "  policy: {nudge_after: 30m, assign_after: 4h, owner_reminder_after: 4h, reassign_after: 1d,\n"
    "           requester_reminder_after: 1d}\n"
    "communities:\n"
    + "".join(
        f"  - key: c{n}\n    name: Community {n}\n    slack: {{channel: C0KILL{n:04d}}}\n"
        '    experts: ["slack:U0ADA", "slack:U0BEN"]\n'
        for n in range(CHANNELS)
    )
)


async def open_escalations(store: Store, count: int, opened_at: datetime, prefix: str) -> list[str]:
    """Accepted escalations, as the service records them (outbox rows queued), opened at ``opened_at``."""
    runtime = Runtime(store, parse_config(CONFIG, "kill.yaml"), {}, clock=FakeClock(opened_at), holder="opener")
    ids = []
    for n in range(count):
        outcome = await runtime.service.open(
            requester=SAM, community_key=f"c{n % CHANNELS}", question=f"{prefix} question {n}"
        )
        assert outcome.escalation is not None
        ids.append(outcome.escalation.id)
    return ids


async def expire_leases(store: Store) -> None:
    """What the passage of the lease time (120 s outbox, 60 s timers) does to a dead holder's claims."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with store.unit_of_work() as uow:
        await uow.session.execute(update(OutboxRow).where(OutboxRow.lease_until.is_not(None)).values(lease_until=past))
        await uow.session.execute(
            update(EscalationRow).where(EscalationRow.lease_until.is_not(None)).values(lease_until=past)
        )


async def test_a_process_killed_while_delivering_loses_nothing_and_doubles_no_card(
    database_url: str, store: Store, fake: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(CONFIG)
    first_batch = await open_escalations(store, 24, datetime.now(UTC), "first")
    fake.slow(0.25)  # every answer comes late: deliveries are in flight when the kill comes

    first = serve("first", tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)
    try:
        deadline = time.monotonic() + 30
        while len([m for m in fake.posted() if m.get("metadata")]) < 6:
            assert first.process.poll() is None, first.log()[-3000:]
            assert time.monotonic() < deadline, "the first process delivered nothing"
            await asyncio.sleep(0.05)
    finally:
        await first.kill()
    posted_before = len(fake.posted())
    rows = await outbox_rows(store)
    assert any(r.status == "pending" for r in rows), "the kill came too late: nothing left to deliver"
    # The crash window itself: Slack has the message, our database does not know it was sent.
    at_slack = {m["metadata"]["event_payload"]["idempotency_key"] for m in fake.posted() if m.get("metadata")}
    in_doubt = [r.idempotency_key for r in rows if r.status == "pending" and r.idempotency_key in at_slack]
    assert in_doubt, "no delivery was in flight at the kill"

    # While nothing runs, more questions are accepted and their nudges fall due: 5 minutes ago.
    second_batch = await open_escalations(store, 6, datetime.now(UTC) - timedelta(minutes=35), "second")
    await expire_leases(store)
    fake.slow(0.0)

    second = serve("second", tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)
    try:

        async def finished() -> bool:
            async with store.unit_of_work() as uow:
                counts = await uow.outbox.counts()
                nudged = await uow.audit.count(action="nudged")
            return nudged >= len(second_batch) and counts.get("pending", 0) == 0

        deadline = time.monotonic() + 60
        while not await finished():
            assert second.process.poll() is None, second.log()[-3000:]
            assert time.monotonic() < deadline, f"not finished: {second.log()[-3000:]}"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # more rounds: a double would show now
    finally:
        assert await second.stop() == 0, second.log()[-3000:]

    rows = await outbox_rows(store)
    # Nothing lost: every accepted escalation is there, its card and every effect delivered.
    async with store.unit_of_work() as uow:
        for esc_id in first_batch + second_batch:
            assert await uow.escalations.get(esc_id) is not None
            assert len(await uow.messages.for_escalation(esc_id, "card")) == 1
        nudges = [a for esc_id in second_batch for a in await uow.audit.for_escalation(esc_id) if a.action == "nudged"]
    assert Counter(r.status for r in rows) == {"sent": len(rows)}
    # No duplicate: one copy of each card, thread reply and DM, each escalation's effects in order.
    assert_exactly_once_in_order(fake, rows)
    cards = Counter(
        m["metadata"]["event_payload"]["escalation_id"]
        for m in fake.posted()
        if m.get("metadata", {}).get("event_type") == "escalation_card"
    )
    assert cards == dict.fromkeys(first_batch + second_batch, 1)
    assert posted_before > 0 and len(fake.posted()) > posted_before
    for key in in_doubt:  # found by metadata, recorded, not posted again
        assert len(fake.posted_with_key(key)) == 1
    assert sum(1 for r in rows if r.kind in POSTING) == len([m for m in fake.posted() if m.get("metadata")])

    # Overdue timers fired once after the restart, and were reported late, with how late.
    assert sorted(a.escalation_id for a in nudges) == sorted(second_batch)
    assert all(a.detail is not None and a.detail["late_s"] >= 240 for a in nudges)
    late = [json.loads(line) for line in second.log().splitlines() if '"timer ran late"' in line]
    assert {entry["escalation_id"] for entry in late} == set(second_batch)
    assert all(entry["level"] == "warning" and entry["late_s"] >= 240 for entry in late)
    assert "Traceback" not in second.log()
