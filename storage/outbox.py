"""The outbox: the effects a command leaves to deliver, leased and marked by the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from workflows.console import Reach
from workflows.effects import EFFECT_ADAPTER, Effect, effect_target

from . import reach
from .direct import Prebuilt, Repository, Serialized
from .tables import EscalationRow, OutboxRow

_OUTBOX = cast(Table, OutboxRow.__table__)
_OUTBOX_COLUMNS = [
    *("escalation_id", "idempotency_key", "kind", "platform", "target", "payload", "status", "attempts"),
    *("next_attempt_at", "created_at"),
]
_INSERT_OUTBOX = Prebuilt(insert(_OUTBOX), _OUTBOX_COLUMNS)
_MARK_SENT = Prebuilt(
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("b_id"),
        _OUTBOX.c.lease_owner == bindparam("b_holder"),
        _OUTBOX.c.status == "pending",
    )
    .values(
        status="sent",
        sent_at=bindparam("b_now"),
        result=bindparam("b_result"),
        lease_until=None,
        attempts=_OUTBOX.c.attempts + 1,
        last_error=None,
    )
)


class OutboxRepository(Repository):
    async def append(self, escalation_id: str, version: int, effects: Sequence[Effect], now: datetime) -> None:
        rows = []
        for index, effect in enumerate(effects):
            platform, target = effect_target(effect)
            rows.append(
                {
                    "escalation_id": escalation_id,
                    "idempotency_key": f"{escalation_id}:{version}:{index}",
                    "kind": effect.kind,
                    "platform": platform.value,
                    "target": target,
                    "payload": Serialized(effect.model_dump_json()),
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
        await self.direct.execute_many(_INSERT_OUTBOX, rows)

    async def claim(self, now: datetime, limit: int, holder: str, lease: timedelta) -> list[OutboxRow]:
        """Lease the deliverable head of each escalation's queue (per-escalation order)."""
        earlier = aliased(OutboxRow)
        blocked = (
            select(earlier.id)
            .where(
                earlier.escalation_id == OutboxRow.escalation_id, earlier.id < OutboxRow.id, earlier.status == "pending"
            )
            .exists()
        )
        free = or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now)
        query = (
            select(OutboxRow)
            .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now, free, ~blocked)
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True, of=OutboxRow)
        rows = list((await self.session.execute(query)).scalars().all())
        if not rows:
            return []
        taken = set(
            (
                await self.session.execute(
                    update(_OUTBOX)
                    .where(
                        _OUTBOX.c.id.in_([row.id for row in rows]),
                        _OUTBOX.c.status == "pending",
                        _OUTBOX.c.lease_until.is_(None) | (_OUTBOX.c.lease_until < now),
                    )
                    .values(lease_until=now + lease, lease_owner=holder)
                    .returning(_OUTBOX.c.id)
                )
            ).scalars()
        )
        return [row for row in rows if row.id in taken]

    async def mark_sent(self, row_id: int, holder: str, now: datetime, result: dict[str, Any] | None) -> bool:
        params = {"b_id": row_id, "b_holder": holder, "b_now": now, "b_result": result}
        return await self.direct.execute(_MARK_SENT, params) == 1

    async def mark_retry(self, row_id: int, holder: str, at: datetime, error: str) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.lease_owner == holder, OutboxRow.status == "pending")
            .values(next_attempt_at=at, last_error=error[:2000], lease_until=None, attempts=OutboxRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )

    async def release(self, row_ids: Sequence[int], holder: str) -> None:
        """Give leased rows back untouched (no attempt counted)."""
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(row_ids)), OutboxRow.lease_owner == holder, OutboxRow.status == "pending")
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )

    async def mark_failed(self, row_id: int, holder: str, error: str) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.lease_owner == holder, OutboxRow.status == "pending")
            .values(status="failed", last_error=error[:2000], lease_until=None, attempts=OutboxRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )

    async def failed_within(self, ids: Sequence[int] | None, within: Reach | None) -> list[tuple[int, str]]:
        query = select(OutboxRow.id, OutboxRow.escalation_id).where(OutboxRow.status == "failed")
        if ids is not None:
            query = query.where(OutboxRow.id.in_(list(ids)))
        if within is not None:
            query = query.join(EscalationRow, EscalationRow.id == OutboxRow.escalation_id).where(*reach.within(within))
        return [(int(i), str(e)) for i, e in (await self.session.execute(query.order_by(OutboxRow.id))).all()]

    async def retry_failed(self, now: datetime, ids: Sequence[int] | None = None) -> int:
        stmt = update(OutboxRow).where(OutboxRow.status == "failed")
        if ids:
            stmt = stmt.where(OutboxRow.id.in_(list(ids)))
        res = await self.session.execute(
            stmt.values(status="pending", next_attempt_at=now, lease_until=None).execution_options(
                synchronize_session=False
            )
        )
        return int(res.rowcount)  # type: ignore[attr-defined]

    async def status_of(self, idempotency_key: str) -> str | None:
        query = select(OutboxRow.status).where(OutboxRow.idempotency_key == idempotency_key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list(self, status: str | None = None, limit: int = 200) -> list[OutboxRow]:
        query = select(OutboxRow).order_by(OutboxRow.id).limit(limit)
        if status:
            query = query.where(OutboxRow.status == status)
        return list((await self.session.execute(query)).scalars().all())

    async def prune_sent(self, before: datetime) -> int:
        """Forget rows delivered before ``before``; failed and pending rows are always kept."""
        stmt = delete(OutboxRow).where(OutboxRow.status == "sent", OutboxRow.sent_at < before)
        result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        rows = (await self.session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all()
        return {str(s): int(n) for s, n in rows}

    async def oldest_pending(self) -> datetime | None:
        query = select(func.min(OutboxRow.created_at)).where(OutboxRow.status == "pending")
        return (await self.session.execute(query)).scalar_one_or_none()

    async def next_attempt(self) -> datetime | None:
        query = select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
        return (await self.session.execute(query)).scalar_one_or_none()


def effect_of(row: OutboxRow) -> Effect:
    return EFFECT_ADAPTER.validate_python(row.payload)
