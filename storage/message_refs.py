"""The platform messages (cards, replies) that belong to an escalation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.model import MessageRef

from .direct import Prebuilt, Repository
from .tables import MessageRefRow

_REFS = cast(Table, MessageRefRow.__table__)
_REFS_OF = select(_REFS.c.kind, _REFS.c.platform, _REFS.c.channel, _REFS.c.message_id, _REFS.c.tenant, _REFS.c.data)
# An insert that ignores a row already there, by dialect (False: SQLite, True: PostgreSQL).
_REF_COLUMNS = ["escalation_id", "kind", "platform", "tenant", "channel", "message_id", "data", "created_at"]
_ADD_REF = {
    False: Prebuilt(sqlite_insert(_REFS).on_conflict_do_nothing(), _REF_COLUMNS),
    True: Prebuilt(pg_insert(_REFS).on_conflict_do_nothing(), _REF_COLUMNS),
}


class MessageRefRepository(Repository):
    async def add(
        self, escalation_id: str, kind: str, ref: MessageRef, now: datetime, data: dict[str, Any] | None = None
    ) -> None:
        values = {
            "escalation_id": escalation_id,
            "kind": kind,
            "platform": ref.platform.value,
            "tenant": ref.tenant,
            "channel": ref.channel,
            "message_id": ref.id,
            "data": data,
            "created_at": now,
        }
        await self.direct.execute(_ADD_REF[self._postgres], values)

    async def for_escalation(self, escalation_id: str, kind: str | None = None) -> list[tuple[str, MessageRef, Any]]:
        return (await self.for_escalations([escalation_id], kind)).get(escalation_id, [])

    async def for_escalations(
        self, escalation_ids: Sequence[str], kind: str | None = None
    ) -> dict[str, list[tuple[str, MessageRef, Any]]]:
        """The message references of several escalations at once, in the order they were added."""
        query = _REFS_OF.add_columns(_REFS.c.escalation_id).where(_REFS.c.escalation_id.in_(list(escalation_ids)))
        if kind is not None:
            query = query.where(_REFS.c.kind == kind)
        found: dict[str, list[tuple[str, MessageRef, Any]]] = {}
        for r in (await self.session.execute(query.order_by(_REFS.c.id))).all():
            ref = MessageRef(platform=r.platform, channel=r.channel, id=r.message_id, tenant=r.tenant)
            found.setdefault(r.escalation_id, []).append((r.kind, ref, r.data))
        return found
