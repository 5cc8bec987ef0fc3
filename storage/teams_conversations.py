"""Teams conversation references: where the Teams bot may post proactively.

Implements ``adapters.teams.conversations.ConversationStore`` structurally (storage does
not import adapters): the Teams adapter saves a reference whenever the bot is installed
or spoken to, and the Teams sender reads them to post cards and 1:1 messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .tables import TeamsConversationRow, TeamsPersonRow
from .unit_of_work import Store


@dataclass(frozen=True)
class TeamsConversation:
    conversation_id: str
    kind: str
    tenant: str
    service_url: str
    team_id: str | None
    channel_id: str | None
    user_id: str | None
    bot_id: str | None
    reference: dict[str, Any]
    unreachable: bool


def _record(row: TeamsConversationRow) -> TeamsConversation:
    return TeamsConversation(
        conversation_id=row.conversation_id,
        kind=row.kind,
        tenant=row.tenant,
        service_url=row.service_url,
        team_id=row.team_id,
        channel_id=row.channel_id,
        user_id=row.user_id,
        bot_id=row.bot_id,
        reference=dict(row.reference or {}),
        unreachable=row.unreachable_at is not None,
    )


class TeamsConversationStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def save_conversation(
        self,
        *,
        conversation_id: str,
        kind: str,
        tenant: str,
        service_url: str,
        team_id: str | None,
        channel_id: str | None,
        user_id: str | None,
        bot_id: str | None,
        reference: dict[str, Any],
    ) -> None:
        values: dict[str, Any] = {
            "conversation_id": conversation_id,
            "kind": kind,
            "tenant": tenant,
            "service_url": service_url,
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "bot_id": bot_id,
            "reference": reference,
            "unreachable_at": None,
            "unreachable_reason": None,
            "updated_at": datetime.now(UTC),
        }
        insert = sqlite_insert if self.store.is_sqlite else pg_insert
        stmt = insert(TeamsConversationRow).values(**values)
        changes = {k: stmt.excluded[k] for k in values if k != "conversation_id"}
        # Keep what an earlier event knew when a later one (a reply in a thread) knows less.
        for key in ("team_id", "channel_id", "user_id", "bot_id"):
            if values[key] is None:
                changes.pop(key)
        stmt = stmt.on_conflict_do_update(index_elements=["conversation_id"], set_=changes)
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(stmt)

    async def _first(self, *where: Any) -> TeamsConversation | None:
        query = (
            select(TeamsConversationRow)
            .where(*where)
            .order_by(TeamsConversationRow.unreachable_at.is_not(None), TeamsConversationRow.updated_at.desc())
            .limit(1)
        )
        async with self.store.unit_of_work() as uow:
            row = (await uow.session.execute(query)).scalars().first()
            return _record(row) if row is not None else None

    async def conversation(self, conversation_id: str) -> TeamsConversation | None:
        return await self._first(TeamsConversationRow.conversation_id == conversation_id)

    async def personal_conversation(self, tenant: str, user_id: str) -> TeamsConversation | None:
        where = [TeamsConversationRow.kind == "personal", TeamsConversationRow.user_id == user_id]
        if tenant:
            where.append(TeamsConversationRow.tenant == tenant)
        return await self._first(*where)

    async def team_conversation(self, team_id: str) -> TeamsConversation | None:
        return await self._first(TeamsConversationRow.team_id == team_id)

    async def tenant_conversation(self, tenant: str) -> TeamsConversation | None:
        """Any conversation in the tenant (for its service URL); any at all for an empty tenant."""
        return await self._first(*([TeamsConversationRow.tenant == tenant] if tenant else []))

    async def mark_unreachable(self, conversation_id: str, reason: str) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(TeamsConversationRow)
                .where(TeamsConversationRow.conversation_id == conversation_id)
                .values(unreachable_at=datetime.now(UTC), unreachable_reason=reason[:200])
                .execution_options(synchronize_session=False)
            )

    async def remember_person(self, tenant: str, aad_object_id: str, user_id: str) -> None:
        """Who ``aad_object_id`` is in the chat (their ``29:`` id), as Teams last said it."""
        values = {"tenant": tenant, "aad_object_id": aad_object_id, "user_id": user_id, "seen_at": datetime.now(UTC)}
        insert = sqlite_insert if self.store.is_sqlite else pg_insert
        stmt = insert(TeamsPersonRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant", "aad_object_id"],
            set_={"user_id": stmt.excluded.user_id, "seen_at": stmt.excluded.seen_at},
        )
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(stmt)
