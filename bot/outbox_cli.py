"""`escalation-bot outbox`: undelivered messages listed in full (ids are never cut: an
operator pastes them) and failed ones queued again."""

from __future__ import annotations

import argparse
import json
import textwrap

from storage.tables import OutboxRow
from workflows.clock import SystemClock
from workflows.console import OPERATOR
from workflows.deliveries import RetryDeliveries
from workflows.service import EscalationService

from .config import Directory
from .database import open_store

WIDTH = 100


async def run_outbox(database_url: str, args: argparse.Namespace) -> int:
    store = await open_store(database_url)
    try:
        if args.outbox_command == "retry":
            # The service's command, as the console's: the operator at the terminal, audited.
            service = EscalationService(store, Directory([]), SystemClock())
            count = await service.deliveries.retry(RetryDeliveries(OPERATOR, args.ids or None, via="cli"))
            print(f"{count} failed row(s) queued for delivery again")
            return 0
        status = getattr(args, "status", "failed")
        limit = getattr(args, "limit", 50)
        fmt = getattr(args, "format", "table")
        async with store.unit_of_work() as uow:
            rows = await uow.outbox.list(None if status == "all" else status, limit)
            counts = await uow.outbox.counts()
    finally:
        await store.close()
    if fmt == "json":
        print(json.dumps([_as_dict(row) for row in rows], indent=2))
        return 0
    print("outbox: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty"))
    if not rows:
        print(f"no {status} rows" if status != "all" else "no rows")
        return 0
    print("\n".join(table(rows)))
    if status == "failed":
        print("retry with: escalation-bot outbox retry [ID ...]")
    return 0


def table(rows: list[OutboxRow]) -> list[str]:
    """One line per row with the target last and whole (on a line of its own when it would
    not fit); the error below it, wrapped."""
    lines = [f"{'id':>6}  {'status':<8} {'kind':<13} {'tries':>5}  {'created (UTC)':<19}  target"]
    for row in rows:
        line = f"{row.id:>6}  {row.status:<8} {row.kind:<13} {row.attempts:>5}  {row.created_at:%Y-%m-%d %H:%M:%S}"
        target = f"{row.platform}:{row.target}"
        if len(line) + 2 + len(target) <= WIDTH:
            lines.append(f"{line}  {target}")
        else:
            lines += [line, " " * 8 + target]
        if row.last_error:
            lines += textwrap.wrap(
                row.last_error, WIDTH, initial_indent=" " * 8, subsequent_indent=" " * 8, break_on_hyphens=False
            )
    return lines


def _as_dict(row: OutboxRow) -> dict[str, object]:
    return {
        "id": row.id,
        "status": row.status,
        "kind": row.kind,
        "platform": row.platform,
        "target": row.target,
        "escalation_id": row.escalation_id,
        "attempts": row.attempts,
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "last_error": row.last_error,
    }
