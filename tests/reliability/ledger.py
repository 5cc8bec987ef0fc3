"""Reading back what happened: the outbox as queued, and what the fake Slack received.

Every assertion of "exactly once, in order" in these tests is made from the fake's own
record of the calls it handled, against the outbox rows that asked for them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from storage import Store
from storage.tables import OutboxRow
from tests.slack.fake_slack import FakeSlack

POSTING = frozenset({"post_card", "thread_reply", "notify", "post_digest"})
_BLOCK_ID = re.compile(r"^esc:(?P<escalation>.+):(?P<version>\d+):[^:]+$")

Identity = tuple[str, str]


async def outbox_rows(store: Store) -> list[OutboxRow]:
    async with store.unit_of_work() as uow:
        return list((await uow.session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars().all())


def row_identity(row: OutboxRow) -> Identity | None:
    """How a row shows up at Slack: a post carries its key in metadata; an update, its card version."""
    if row.kind in POSTING:
        return ("post", row.idempotency_key)
    if row.kind == "update_card":
        return ("update", str(row.payload["view"]["version"]))
    return None


def call_identity(method: str, args: dict[str, Any]) -> tuple[str, Identity] | None:
    """(escalation id, identity) of a handled call, or None for calls that are no effect."""
    if method == "chat.postMessage":
        payload = (args.get("metadata") or {}).get("event_payload") or {}
        if "idempotency_key" not in payload:
            return None  # not sent by the outbox (nothing the bot posts today)
        return str(payload["escalation_id"]), ("post", str(payload["idempotency_key"]))
    if method == "chat.update":
        for block in args.get("blocks") or []:
            match = _BLOCK_ID.match(str(block.get("block_id", "")))
            if match:
                return match["escalation"], ("update", match["version"])
    return None


def handled(fake: FakeSlack) -> list[tuple[str, Identity]]:
    """Effects Slack handled, in the order it handled them (a timed-out call was handled too)."""
    out = []
    for call in fake.calls:
        if call.status != 200:
            continue
        found = call_identity(call.method, call.args)
        if found is not None:
            out.append(found)
    return out


def assert_exactly_once_in_order(fake: FakeSlack, rows: list[OutboxRow]) -> None:
    assert rows, "nothing was queued"
    unsent = [(r.id, r.kind, r.status, r.last_error) for r in rows if r.status != "sent"]
    assert not unsent, f"not delivered: {unsent[:5]}"
    expected: dict[str, list[Identity]] = defaultdict(list)
    for row in rows:
        identity = row_identity(row)
        if identity is not None:
            expected[row.escalation_id].append(identity)
    seen: dict[str, list[Identity]] = defaultdict(list)
    for escalation_id, identity in handled(fake):
        if identity not in seen[escalation_id]:
            seen[escalation_id].append(identity)
    for escalation_id, queue in expected.items():
        assert seen[escalation_id] == queue, f"{escalation_id}: delivered {seen[escalation_id]}, queued {queue}"
    # Posted messages: exactly one copy each in the channel (updates are idempotent by nature).
    copies = Counter(str(m["metadata"]["event_payload"]["idempotency_key"]) for m in fake.posted() if m.get("metadata"))
    keys = [r.idempotency_key for r in rows if r.kind in POSTING]
    assert {k: copies[k] for k in keys if copies[k] != 1} == {}
    assert set(copies) == set(keys), (set(copies) - set(keys), set(keys) - set(copies))
