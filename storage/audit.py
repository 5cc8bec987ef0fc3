"""The audit trail of every command, and the inbound event ids already handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.model import Escalation, PersonRef

from .direct import Prebuilt, Repository
from .tables import AuditRow, InboundEventRow

_AUDIT = cast(Table, AuditRow.__table__)
_EVENTS = cast(Table, InboundEventRow.__table__)
_INSERT_AUDIT = Prebuilt(
    insert(_AUDIT), ["escalation_id", "tenant", "at", "actor", "platform", "action", "command_id", "version", "detail"]
)

# Inserts that ignore a row already there, by dialect (False: SQLite, True: PostgreSQL).
_EVENT_COLUMNS = ["source", "event_id", "received_at"]
_RECORD_EVENT = {
    False: Prebuilt(sqlite_insert(_EVENTS).on_conflict_do_nothing(), _EVENT_COLUMNS),
    True: Prebuilt(pg_insert(_EVENTS).on_conflict_do_nothing(), _EVENT_COLUMNS),
}


class InboundRepository(Repository):
    async def seen(self, source: str, event_id: str) -> bool:
        query = select(InboundEventRow.event_id).where(
            InboundEventRow.source == source, InboundEventRow.event_id == event_id
        )
        return (await self.session.execute(query)).first() is not None

    async def record(self, source: str, event_id: str, now: datetime) -> bool:
        """True if this is the first time; False if it was already recorded."""
        stmt = _RECORD_EVENT[self._postgres]
        return await self.direct.execute(stmt, {"source": source, "event_id": event_id, "received_at": now}) == 1

    async def prune(self, before: datetime) -> int:
        res = await self.session.execute(delete(InboundEventRow).where(InboundEventRow.received_at < before))
        return int(res.rowcount)  # type: ignore[attr-defined]


class AuditRepository(Repository):
    async def add(
        self,
        esc: Escalation,
        *,
        at: datetime,
        actor: PersonRef,
        action: str,
        command_id: str,
        detail: dict[str, Any] | None,
    ) -> None:
        await self._insert(esc.id, esc.tenant, esc.version, at, actor, action, command_id, detail)

    async def add_about(
        self,
        subject: str,
        *,
        tenant: str,
        at: datetime,
        actor: PersonRef,
        action: str,
        command_id: str,
        detail: dict[str, Any] | None,
    ) -> None:
        """A row about something that is no escalation (``person:<key>``, ``community:<key>``),
        in the same table and transaction as the change it records."""
        await self._insert(subject[:64], tenant, 0, at, actor, action, command_id[:300], detail)

    async def _insert(
        self,
        subject: str,
        tenant: str,
        version: int,
        at: datetime,
        actor: PersonRef,
        action: str,
        command_id: str,
        detail: dict[str, Any] | None,
    ) -> None:
        row = {
            "escalation_id": subject,
            "tenant": tenant,
            "at": at,
            "actor": actor.key,
            "platform": actor.platform.value,
            "action": action,
            "command_id": command_id,
            "version": version,
            "detail": detail or None,
        }
        await self.direct.execute(_INSERT_AUDIT, row)

    async def for_escalation(self, escalation_id: str) -> list[AuditRow]:
        query = select(AuditRow).where(AuditRow.escalation_id == escalation_id).order_by(AuditRow.id)
        return list((await self.session.execute(query)).scalars().all())

    async def between(self, since: datetime, until: datetime, actions: Sequence[str]) -> list[AuditRow]:
        query = (
            select(AuditRow)
            .where(AuditRow.at >= since, AuditRow.at < until, AuditRow.action.in_(list(actions)))
            .order_by(AuditRow.id)
        )
        return list((await self.session.execute(query)).scalars().all())

    async def count(self, **where: Any) -> int:
        query = select(func.count()).select_from(AuditRow)
        if where:
            query = query.where(and_(*(getattr(AuditRow, k) == v for k, v in where.items())))
        return int((await self.session.execute(query)).scalar_one())
