"""Per-community state: whose turn is next, and the one digest per community and day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.commands import Roster

from .direct import Repository
from .escalations import EscalationRepository
from .tables import CommunityStateRow, DigestRow


class DigestRepository(Repository):
    async def claim(self, community: str, day: str, holder: str, now: datetime) -> bool:
        """True for exactly one caller per community and day, across every replica."""
        insert = pg_insert if self._postgres else sqlite_insert
        stmt = (
            insert(DigestRow)
            .values(community=community, day=day, created_at=now, holder=holder)
            .on_conflict_do_nothing()
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def last_before(self, community: str, day: str) -> datetime | None:
        query = select(func.max(DigestRow.created_at)).where(DigestRow.community == community, DigestRow.day < day)
        return (await self.session.execute(query)).scalar_one_or_none()


class RotationRepository(Repository):
    async def roster(self, community: str, expert_keys: Sequence[str], escalations: EscalationRepository) -> Roster:
        last = (
            await self.session.execute(
                select(CommunityStateRow.last_assigned).where(CommunityStateRow.community == community)
            )
        ).scalar_one_or_none()
        loads = await escalations.open_loads(expert_keys)
        return Roster(loads=loads, last_assigned=last)

    async def assigned(self, community: str, expert_key: str, now: datetime) -> None:
        insert = pg_insert if self._postgres else sqlite_insert
        stmt = insert(CommunityStateRow).values(community=community, last_assigned=expert_key, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CommunityStateRow.community],
            set_={"last_assigned": expert_key, "updated_at": now},
        )
        await self.session.execute(stmt)
