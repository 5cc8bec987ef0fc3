"""Each conversation's recent sends, shared by every replica (``PacingRow``).

A replica reads and changes a conversation's record only under its row lock (``FOR UPDATE``
on PostgreSQL; SQLite has one writer at a time anyway), so two replicas never both see a
free turn. The arithmetic of the limits is the pacer's (bot/pacing.py): this only keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .direct import Repository
from .tables import PacingRow

_PACING = cast(Table, PacingRow.__table__)


@dataclass
class Pace:
    recent: list[float] = field(default_factory=list)
    blocked_until: float = 0.0
    busy_until: float = 0.0
    holder: str | None = None


class PacingRepository(Repository):
    async def lock(self, platform: str, target: str) -> Pace:
        """The conversation's record, locked until the unit of work ends (made if new)."""
        query = select(_PACING.c.recent, _PACING.c.blocked_until, _PACING.c.busy_until, _PACING.c.holder).where(
            _PACING.c.platform == platform, _PACING.c.target == target
        )
        if self._postgres:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            insert = pg_insert if self._postgres else sqlite_insert
            await self.session.execute(
                insert(_PACING)
                .values(platform=platform, target=target, recent=[], blocked_until=0.0, busy_until=0.0)
                .on_conflict_do_nothing()
            )
            row = (await self.session.execute(query)).first()
            assert row is not None, "the pacing row was just inserted"
        return Pace(list(row.recent or []), float(row.blocked_until), float(row.busy_until), row.holder)

    async def save(self, platform: str, target: str, pace: Pace) -> None:
        await self.session.execute(
            update(_PACING)
            .where(_PACING.c.platform == platform, _PACING.c.target == target)
            .values(
                recent=pace.recent,
                blocked_until=pace.blocked_until,
                busy_until=pace.busy_until,
                holder=pace.holder,
            )
        )
